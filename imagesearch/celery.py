"""The Celery application: broker and result backend from settings (REDIS_URL), tasks autodiscovered from the apps.

Run a worker with `celery -A imagesearch worker -Q default,embed,llm` and the scheduler with `celery -A imagesearch
beat` (the Procfile does both under `make run`).
"""

import os

from celery import Celery
from celery.signals import worker_process_init

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "imagesearch.settings")

app = Celery("imagesearch")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@worker_process_init.connect
def _preload_encoder(**_kwargs) -> None:
    # Each worker process loads and warms the CLIP encoder once, before its first task, not during it.
    if os.environ.get("IMAGESEARCH_PRELOAD_ENCODER", "1") == "1":
        from search.encoder import preload_encoder

        preload_encoder()
