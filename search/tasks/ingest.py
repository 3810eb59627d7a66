"""Folder ingest as a background job: one task per batch of files, on the `embed` queue (see CELERY_TASK_ROUTES)."""

from __future__ import annotations

from celery import shared_task

from search.services.jobs import ingest_job_batch
from search.tasks.options import JOB_TASK_OPTIONS


@shared_task(**JOB_TASK_OPTIONS)
def ingest_batch_task(job_id: int, item_ids: list[int]) -> dict:
    """Ingest the still-pending items among `item_ids` of job `job_id` (a redelivered batch redoes nothing)."""
    job = ingest_job_batch(job_id, item_ids)
    return {"job": job.pk, "state": job.state, "done": job.done, "skipped": job.skipped, "failed": job.failed}
