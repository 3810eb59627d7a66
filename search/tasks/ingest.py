"""Folder ingest as a background job: one task per batch of files, on the `embed` queue (see CELERY_TASK_ROUTES)."""

from __future__ import annotations

from celery import shared_task
from django.conf import settings
from django.db import InterfaceError, OperationalError

from search.services.jobs import ingest_job_batch


@shared_task(
    autoretry_for=(OperationalError, InterfaceError),
    retry_backoff=5,
    retry_backoff_max=300,
    retry_jitter=True,
    max_retries=5,
    soft_time_limit=settings.CELERY_TASK_SOFT_TIME_LIMIT,
    time_limit=settings.CELERY_TASK_TIME_LIMIT,
)
def ingest_batch_task(job_id: int, item_ids: list[int]) -> dict:
    """Ingest the still-pending items among `item_ids` of job `job_id` (a redelivered batch redoes nothing)."""
    job = ingest_job_batch(job_id, item_ids)
    return {"job": job.pk, "state": job.state, "done": job.done, "skipped": job.skipped, "failed": job.failed}
