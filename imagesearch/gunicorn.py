"""gunicorn's configuration (`gunicorn -c python:imagesearch.gunicorn imagesearch.asgi:application`): several uvicorn
worker processes serving the ASGI application, HTTP and websockets, from the same settings as every other entry point.
"""

import os
import shutil
from pathlib import Path

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "imagesearch.settings")

# Only the settings: the apps (and torch with them) load in each worker, never in the master that forks them.
from django.conf import settings

# prometheus-client's multiprocess mode: each worker writes its metrics to files here, /metrics adds them up. Set
# before a worker imports prometheus_client, which reads it once.
os.environ.setdefault("PROMETHEUS_MULTIPROC_DIR", str(settings.VAR_DIR / "metrics"))

bind = f"{settings.WEB_HOST}:{settings.WEB_PORT}"
workers = settings.WEB_WORKERS or max(2, os.cpu_count() or 1)
worker_class = "uvicorn_worker.UvicornWorker"
# A worker loads and warms the CLIP encoder before serving; a large model on a slow disk takes a while.
timeout = 120
graceful_timeout = 30
keepalive = 5
# The ASGI application logs its requests through Django; gunicorn's own log says when workers start and stop.
accesslog = None
errorlog = "-"
loglevel = "info"
proc_name = "imagesearch-web"
# gunicorn's control socket (for `gunicornc`) defaults to one path per user, $HOME/.gunicorn/gunicorn.ctl, which a
# second server of the same user (another deployment on the host, a test stack) takes over. Each server gets its own
# in its var folder; past the ~107 bytes a Unix socket path may have, it goes without one.
control_socket = str(settings.VAR_DIR / f"gunicorn-{settings.WEB_PORT}.ctl")
control_socket_disable = len(control_socket.encode()) > 100


def on_starting(server) -> None:
    # Values of the processes of an earlier run would be added to this run's.
    metrics_dir = Path(os.environ["PROMETHEUS_MULTIPROC_DIR"])
    shutil.rmtree(metrics_dir, ignore_errors=True)
    metrics_dir.mkdir(parents=True, exist_ok=True)


def child_exit(server, worker) -> None:
    # A dead worker's gauges (open websockets, pool connections) no longer count; its counters still do.
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)
