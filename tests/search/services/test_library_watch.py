"""The library watcher: a burst of changes runs one rescan once the folders are quiet; reads run none."""

import threading
import time

import pytest

from search.services.library_watch import QuietPeriod, libraries_watch


class Event:
    def __init__(self, event_type):
        self.event_type = event_type


def test_a_burst_of_events_runs_the_action_once_after_the_quiet_period():
    calls = []
    handler = QuietPeriod(lambda: calls.append(1), quiet_seconds=0.2)
    for _ in range(50):
        handler.on_any_event(Event("created"))
    assert not handler.run_when_quiet()  # still busy
    time.sleep(0.25)
    assert handler.run_when_quiet() and calls == [1]
    assert not handler.run_when_quiet()  # nothing new since


def test_reading_files_changes_nothing():
    handler = QuietPeriod(lambda: pytest.fail("ran for a read"), quiet_seconds=0)
    handler.on_any_event(Event("opened"))
    handler.on_any_event(Event("closed_no_write"))
    assert not handler.run_when_quiet()


def test_a_new_file_in_a_library_triggers_a_rescan(tmp_path, settings):
    settings.LIBRARY_PATHS = [str(tmp_path)]
    ran = threading.Event()
    stop = threading.Event()
    watcher = threading.Thread(target=libraries_watch, args=(ran.set,), kwargs={"quiet_seconds": 0.3, "stop": stop})
    watcher.start()
    try:
        time.sleep(0.5)  # the observer is watching
        (tmp_path / "new.jpg").write_bytes(b"a new photo")
        assert ran.wait(10), "no rescan after a file was added"
    finally:
        stop.set()
        watcher.join(10)
    assert not watcher.is_alive()
