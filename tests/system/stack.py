"""The served system under test: its environment, its set-up (what `make run` does before serving) and a handle to
run commands and read its database as an operator would."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from imagesearch.procfile import ROOT, Stack

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
        done = subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=ROOT,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        if done.returncode:
            raise RuntimeError(f"manage.py {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}")
        return done.stdout

    def sql(self, query: str, params: tuple = ()) -> list[tuple]:
        """Ask the stack's PostgreSQL directly (what a DBA would see), as a client of its own."""
        import psycopg

        with psycopg.connect(host=str(self.var_dir / "pgdata"), user="postgres", dbname="imagesearch") as conn:
            return conn.execute(query, params).fetchall()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def environment(var_dir: Path, port: int) -> dict[str, str]:
    return {
        "PATH": os.environ["PATH"],
        "HOME": os.environ.get("HOME", "/root"),
        "LANG": "C.UTF-8",
        "IMAGESEARCH_ENV_FILE": str(var_dir / "no.env"),  # nothing from a developer's .env
        "IMAGESEARCH_VAR_DIR": str(var_dir),
        "SECRET_KEY": "system-test-secret-key-not-for-production-0123456789",
        "DEBUG": "0",
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "HOST": "127.0.0.1",
        "PORT": str(port),
        "WEB_WORKERS": str(WEB_WORKERS),
        "WORKER_CONCURRENCY": str(WORKER_CONCURRENCY),
        "DATABASE_POOL_SIZE": str(POOL_SIZE),
        "CLIP_MODEL": "imagesearch-tiny",
        "CLIP_PRETRAINED": str(SHIPPED_CHECKPOINT),
        "CLIP_THREADS": "1",
        "CAPTION_MODEL": "",
        "LLM_MODEL": "",
        "CELERY_TASK_SOFT_TIME_LIMIT": "8",
        "CELERY_VISIBILITY_TIMEOUT": str(VISIBILITY_TIMEOUT),
        "CELERY_RESTORE_INTERVAL": str(RESTORE_INTERVAL),
        "INGEST_JOB_BATCH_SIZE": "8",
        "INGEST_REDUCED_DECODE": "0",
        "INGEST_THREADS": "1",
        # One user drives the whole load; throttling is tested on its own, with the default rates, elsewhere.
        "API_THROTTLE_USER": "1000000/minute",
        "API_THROTTLE_UPLOADS": "1000000/minute",
        "WS_RATE_LIMIT": "60",
        "PYTHONUNBUFFERED": "1",
    }


def set_up(system: System) -> None:
    """What `make run` does before it serves (migrate, collectstatic, demo images), then a user with a token."""
    system.manage("migrate", "--noinput")
    system.manage("collectstatic", "--noinput", "--verbosity", "0")
    demo = system.var_dir / "demo"
    system.manage("make_benchmark", str(demo), "--train", "0", "--test", "60", "--seed", "7")
    system.manage("ingest", str(demo / "images"))
    system.manage("import_captions", str(demo))
    script = (
        "from django.contrib.auth.models import User; from accounts.tokens import token_create; "
        f"user = User.objects.create_user({USERNAME!r}, password={PASSWORD!r}); "
        "print(token_create(user=user, name='system tests').key)"
    )
    system.token = system.manage("shell", "-c", script).strip().splitlines()[-1]


def stop_servers(system: System) -> None:
    script = (
        "from pathlib import Path; from imagesearch.embedded_postgres import stop_embedded_server; "
        "from imagesearch.redis_server import stop_embedded_redis; "
        f"stop_embedded_server(Path({str(system.var_dir / 'pgdata')!r})); "
        f"stop_embedded_redis(Path({str(system.var_dir / 'redis')!r}))"
    )
    subprocess.run([sys.executable, "-c", script], cwd=ROOT, env=system.env, timeout=60, check=False)
