"""The Celery application: broker and result backend from settings (REDIS_URL), tasks autodiscovered from the apps.

Run a worker with `celery -A imagesearch worker -Q default,embed,llm` and the scheduler with `celery -A imagesearch
beat` (the Procfile does both under `make run`).
"""

import os

from celery import Celery
from celery.signals import (
    beat_init,
    before_task_publish,
    celeryd_init,
    task_postrun,
    task_prerun,
    worker_process_init,
)

from imagesearch import logs

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "imagesearch.settings")

app = Celery("imagesearch")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

# A task queued during a request carries its request id, and logs one line with it when it ends.
before_task_publish.connect(logs.task_publish, weak=False)
task_prerun.connect(logs.task_started, weak=False)
task_postrun.connect(logs.task_finished, weak=False)


@celeryd_init.connect
@beat_init.connect
def _start_embedded_services(**_kwargs) -> None:
    # A worker or beat started before the web server finds its embedded broker and database running.
    from imagesearch.embedded import start_embedded_services

    start_embedded_services()


@worker_process_init.connect
def _preload_encoder(**_kwargs) -> None:
    # Each worker process loads and warms the CLIP encoder once, before its first task, not during it.
    from django.conf import settings

    if settings.PRELOAD_ENCODER:
        from search.encoder import preload_encoder

        preload_encoder()
