"""gunicorn's configuration (`gunicorn -c python:imagesearch.gunicorn imagesearch.asgi:application`): several uvicorn
worker processes serving the ASGI application, HTTP and websockets, from the same settings as every other entry point.
"""

import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "imagesearch.settings")

# Only the settings: the apps (and torch with them) load in each worker, never in the master that forks them.
from django.conf import settings

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
