"""The periodic rescan of the libraries indexed in place (CELERY_BEAT_SCHEDULE, every LIBRARY_RESCAN_MINUTES)."""

from __future__ import annotations

from celery import shared_task

from search.services.libraries import libraries_rescan
from search.tasks.options import JOB_TASK_OPTIONS


@shared_task(**JOB_TASK_OPTIONS)
def rescan_task() -> str:
    # New photos go to an ingest job's batches, so this task stays short however many arrived.
    return str(libraries_rescan(background=True))
