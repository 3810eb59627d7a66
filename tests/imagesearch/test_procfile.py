"""The Procfile's processes started one by one: parsed like honcho, each killable and restartable on its own."""

import signal
import sys

import psutil
import pytest

from imagesearch import procfile
from imagesearch.procfile import ROOT, Stack, free_port, isolated_environment, prepare, procfile_commands


def test_the_project_procfile_names_the_web_worker_and_beat():
    commands = procfile_commands()
    assert set(commands) == {"web", "worker", "beat"}
    assert "gunicorn -c python:imagesearch.gunicorn imagesearch.asgi:application" in commands["web"]


@pytest.fixture
def sleepers(tmp_path):
    procfile = tmp_path / "Procfile"
    child = f"{sys.executable} -c 'import time; time.sleep(60)'"
    procfile.write_text(
        "# a comment\n"
        f'one: {sys.executable} -c \'import subprocess, time; subprocess.Popen(["sleep", "60"]); time.sleep(60)\'\n'
        f"two: {child}\n"
    )
    stack = Stack(env={"PATH": "/usr/bin:/bin"}, log_dir=tmp_path, commands=procfile_commands(procfile))
    yield stack
    stack.stop()


def test_a_process_killed_alone_can_be_restarted_and_stop_takes_its_children(sleepers):
    sleepers.start()
    first = sleepers.pid("two")
    sleepers.kill("two", signal.SIGKILL)
    assert not psutil.pid_exists(first) or psutil.Process(first).status() == psutil.STATUS_ZOMBIE
    sleepers.restart("two")
    assert sleepers.pid("two") != first and psutil.Process(sleepers.pid("two")).is_running()
    main = psutil.Process(sleepers.pid("one"))
    psutil.wait_procs([], timeout=0.5)
    children = main.children(recursive=True)
    sleepers.stop()
    assert not any(process.is_running() and process.status() != psutil.STATUS_ZOMBIE for process in [main, *children])


def test_an_isolated_environment_reads_no_env_file_and_keeps_debug_off(tmp_path):
    env = isolated_environment(tmp_path, free_port(), WEB_WORKERS="3")
    assert env["IMAGESEARCH_VAR_DIR"] == str(tmp_path) and env["DEBUG"] == "0"
    assert not (ROOT / env["IMAGESEARCH_ENV_FILE"]).exists() and env["WEB_WORKERS"] == "3"


@pytest.mark.parametrize(("demo_images", "with_demo"), [(20, True), (0, False)])
def test_prepare_adds_a_demo_collection_unless_it_is_asked_for_none(monkeypatch, tmp_path, demo_images, with_demo):
    scripts = []
    monkeypatch.setattr(procfile, "manage", lambda env, *args: scripts.append(args[-1]) or "API key: isk_key\n")

    key = prepare({}, tmp_path, demo_images=demo_images, username="someone", password="a-long-passphrase-11")

    assert key == "isk_key" and "'migrate'" in scripts[0] and "'collectstatic'" in scripts[0]
    assert ("'make_dataset'" in scripts[0]) is with_demo and ("'import_captions'" in scripts[0]) is with_demo
