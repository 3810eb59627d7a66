"""The served application (gunicorn with a uvicorn worker: HTTP + websockets, as `make run` serves it) on the test
database and the tests' Redis, and headless Chromium.

The server runs in its own process with tests/browser/live_settings.py, so it sees only committed rows: browser
tests use `transactional_db`. Chromium is Debian's (`make browser-deps`); Playwright never downloads a browser.
"""

from __future__ import annotations

import os
import socket
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from imagesearch.procfile import Stack

CHROMIUM = Path("/usr/bin/chromium")
ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_until_up(url: str, process: subprocess.Popen, timeout: float = 90.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the live server exited with {process.returncode}")
        try:
            urllib.request.urlopen(f"{url}/accounts/login/", timeout=2)
            return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            time.sleep(0.3)
    raise RuntimeError(f"the live server did not answer within {timeout:.0f}s")


@pytest.fixture
def live_asgi_server(transactional_db, settings, media_root, tmp_path):
    """The URL of the served application (the Procfile's web command) on this test's database and media folder."""
    from django.db import connection

    port = free_port()
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.browser.live_settings",
        "LIVE_TEST_DATABASE": connection.settings_dict["NAME"],
        "LIVE_DATABASE_HOST": connection.settings_dict["HOST"],
        "CLIP_MODEL": settings.CLIP_MODEL,
        "CLIP_PRETRAINED": settings.CLIP_PRETRAINED,
        "REDIS_URL": settings.REDIS_URL,
        "MEDIA_ROOT": str(media_root),
        "HOST": "127.0.0.1",
        "PORT": str(port),
        "WEB_WORKERS": "1",
        "SIGNUP_POLICY": "open",  # the flow test signs up like a new user
        "PYTHONPATH": str(ROOT),
    }
    stack = Stack(env=env, log_dir=tmp_path)  # the log: tmp_path / "web.log"
    stack.start("web")  # in a process group of its own
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_up(url, stack.processes["web"])
        yield url
    finally:
        # The whole group, the workers too: a worker left behind when only its master was killed kept its session on
        # the test database, and the run could not drop it at the end ("being accessed by other users").
        stack.stop()


@pytest.fixture
def browser(monkeypatch):
    if not CHROMIUM.exists():
        pytest.skip("Debian Chromium is not installed (/usr/bin/chromium): run `make browser-deps`")
    from playwright.sync_api import sync_playwright

    # Playwright's sync API runs an event loop in this thread; the test's own ORM calls are still synchronous.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM),
            headless=True,
            args=["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"],
        )
        yield browser
        browser.close()


from tests.web_fixtures import collection, shape_files  # noqa: E402, F401
