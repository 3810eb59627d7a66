"""Fetching images from the web for a query, as a background job."""

from __future__ import annotations

from celery import shared_task
from celery.exceptions import SoftTimeLimitExceeded

from search.models import Job
from search.services.fetch import fetch_job_run
from search.services.jobs import job_fail
from search.tasks.options import JOB_TASK_OPTIONS


@shared_task(bind=True, **JOB_TASK_OPTIONS)
def fetch_job_task(self, job_id: int) -> str:
    """Run or resume fetch job `job_id`; returns its final state."""
    try:
        return fetch_job_run(job_id, task_id=self.request.id or "").state
    except SoftTimeLimitExceeded:
        job = job_fail(Job.objects.get(pk=job_id), "stopped at the time limit; the images indexed so far are kept")
        return job.state
