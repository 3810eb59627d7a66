"""Task options shared by the job tasks (fetch, ingest batches)."""

from __future__ import annotations

from django.conf import settings
from django.db import InterfaceError, OperationalError

# Lost database connections are worth another try, with backoff; a job resumes from its pending items, so a
# retried task redoes nothing that was finished.
JOB_TASK_OPTIONS = {
    "autoretry_for": (OperationalError, InterfaceError),
    "retry_backoff": 5,
    "retry_backoff_max": 300,
    "retry_jitter": True,
    "max_retries": 5,
    "soft_time_limit": settings.CELERY_TASK_SOFT_TIME_LIMIT,
    "time_limit": settings.CELERY_TASK_TIME_LIMIT,
}
