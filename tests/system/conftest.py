"""The served system, started as `make run` starts it, and driven from outside over HTTP and websockets.

One stack for the whole session: the Procfile's web server (gunicorn, two uvicorn worker processes), Celery worker
(two processes) and beat, with their own embedded PostgreSQL and embedded Redis under a temporary folder — no
in-memory channel layer, no test client, nothing shared with the development servers.
"""

from __future__ import annotations

import pytest

from imagesearch.procfile import Stack, free_port, wait_until_healthy
from tests.system.stack import SHIPPED_CHECKPOINT, System, environment, set_up, stop_servers


def pytest_collection_modifyitems(items):
    for item in items:
        if "tests/system/" in str(item.path):
            item.add_marker(pytest.mark.system)


@pytest.fixture(scope="session")
def system(tmp_path_factory) -> System:
    if not SHIPPED_CHECKPOINT.exists():
        pytest.skip("the shipped imagesearch-tiny checkpoint is missing")
    var_dir = tmp_path_factory.mktemp("system")
    (var_dir / "logs").mkdir()
    port = free_port()
    env = environment(var_dir, port)
    stack = Stack(env=env, log_dir=var_dir / "logs")
    system = System(f"http://127.0.0.1:{port}", f"ws://127.0.0.1:{port}", "", stack, var_dir, env)
    try:
        set_up(system)
        stack.start("web", "worker", "beat")
        wait_until_healthy(f"{system.url}/api/health/", processes=stack.processes)
        yield system
    finally:
        stack.stop()
        stop_servers(system)
