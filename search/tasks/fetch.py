"""Fetching images from the web for a query, as a background job."""

from __future__ import annotations

from celery import shared_task
from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.db import InterfaceError, OperationalError

from search.models import Job
from search.services.fetch import fetch_job_run
from search.services.jobs import job_fail

# Lost database connections are worth another try; the job resumes from its pending items.
TRANSIENT_ERRORS = (OperationalError, InterfaceError)


@shared_task(
    bind=True,
    autoretry_for=TRANSIENT_ERRORS,
    retry_backoff=5,
    retry_backoff_max=300,
    retry_jitter=True,
    max_retries=5,
    soft_time_limit=settings.CELERY_TASK_SOFT_TIME_LIMIT,
    time_limit=settings.CELERY_TASK_TIME_LIMIT,
)
def fetch_job_task(self, job_id: int) -> str:
    """Run or resume fetch job `job_id`; returns its final state."""
    try:
        return fetch_job_run(job_id, task_id=self.request.id or "").state
    except SoftTimeLimitExceeded:
        job = job_fail(Job.objects.get(pk=job_id), "stopped at the time limit; the images indexed so far are kept")
        return job.state
