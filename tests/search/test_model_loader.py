"""One model per process: built once even when threads ask at once, warmed once, forgotten on reset."""

import threading
import time

from search.model_loader import ProcessModel


def test_concurrent_first_uses_build_one_model():
    built = []

    def build():
        time.sleep(0.05)  # long enough for every thread to ask while the first one builds
        built.append(object())
        return built[-1]

    loader = ProcessModel(build)
    results = []
    threads = [threading.Thread(target=lambda: results.append(loader.get())) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(built) == 1 and all(result is built[0] for result in results)


def test_preload_warms_once_and_reset_forgets():
    warmed = []
    loader = ProcessModel(object, warm=warmed.append)
    first = loader.preload()
    assert warmed == [first] and loader.get() is first
    loader.reset()
    assert loader.loaded is None and loader.get() is not first


def test_a_model_may_be_warmed_on_its_first_use():
    warmed = []
    loader = ProcessModel(object, warm=warmed.append, warm_on_first_use=True)
    model = loader.get()
    loader.preload()
    assert warmed == [model]
