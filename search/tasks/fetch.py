"""Fetching images from the web for a query, as a background job: one task per round, each queueing the next."""

from __future__ import annotations

from celery import shared_task
from celery.exceptions import SoftTimeLimitExceeded

from search.models import Job, JobState
from search.services.fetch import fetch_job_step
from search.services.jobs import job_fail
from search.tasks.options import JOB_TASK_OPTIONS


@shared_task(bind=True, **JOB_TASK_OPTIONS)
def fetch_job_task(self, job_id: int) -> str:
    """Run one round of fetch job `job_id` and queue the next while items are pending; returns the job's state."""
    try:
        job = fetch_job_step(job_id, task_id=self.request.id or "")
    except SoftTimeLimitExceeded:
        job = job_fail(Job.objects.get(pk=job_id), "stopped at the time limit; the images indexed so far are kept")
    if job.state == JobState.RUNNING:
        # Short tasks keep the broker's visibility timeout short: a worker that dies loses minutes, not hours.
        fetch_job_task.apply_async((job_id,))
    return job.state
