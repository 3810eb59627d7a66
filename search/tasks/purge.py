"""The periodic purge of temporary files (CELERY_BEAT_SCHEDULE runs it every PURGE_INTERVAL_MINUTES)."""

from __future__ import annotations

from celery import shared_task
from django.conf import settings

from search.services.purge import temporary_files_purge


@shared_task(soft_time_limit=settings.CELERY_TASK_SOFT_TIME_LIMIT, time_limit=settings.CELERY_TASK_TIME_LIMIT)
def purge_task() -> str:
    return str(temporary_files_purge())
