"""The served system under test: its environment, its set-up (what `make run` does before serving) and a handle to
run commands and read its database as an operator would."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from imagesearch.procfile import ROOT, Stack, isolated_environment, manage, prepare, stop_embedded_servers

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

    def sql(self, query: str, params: tuple = ()) -> list[tuple]:
        """Ask the stack's PostgreSQL directly (what a DBA would see), as a client of its own."""
        import psycopg

        with psycopg.connect(host=str(self.var_dir / "pgdata"), user="postgres", dbname="imagesearch") as conn:
            return conn.execute(query, params).fetchall()


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
