"""The periodic purge of temporary files (CELERY_BEAT_SCHEDULE runs it every PURGE_INTERVAL_MINUTES)."""

from __future__ import annotations

from celery import shared_task

from search.services.purge import temporary_files_purge


@shared_task(soft_time_limit=300, time_limit=360)
def purge_task() -> str:
    return str(temporary_files_purge())
