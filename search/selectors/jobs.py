"""Reads of background jobs: one user's jobs, and what a page needs to draw one."""

from __future__ import annotations

from django.db.models import Count, QuerySet

from search.models import Job, JobItemState, JobKind


def job_get_for_user(*, user, job_id: int) -> Job:
    """The job if `user` started it (staff see every job); Job.DoesNotExist otherwise."""
    jobs = Job.objects.all() if user.is_staff else Job.objects.filter(user=user)
    return jobs.get(pk=job_id)


def fetch_jobs_for_user(*, user, limit: int = 10) -> QuerySet[Job]:
    """The user's latest web fetches, newest first."""
    return Job.objects.filter(user=user, kind=JobKind.FETCH)[:limit]


def job_snapshot(job: Job) -> dict:
    """What a page needs to draw a job: state, counters and the final report."""
    return {
        "job": job.pk,
        "kind": job.kind,
        "state": job.state,
        "query": job.query,
        "total": job.total,
        "done": job.done,
        "skipped": job.skipped,
        "failed": job.failed,
        "processed": job.processed,
        "message": job.message,
    }


def job_summary(job: Job) -> str:
    """One line for the job's report: its counters and its most frequent reasons for skipping or failing."""
    reasons = (
        job.items.exclude(state__in=[JobItemState.DONE, JobItemState.PENDING])
        .values("reason")
        .annotate(n=Count("id"))
        .order_by("-n", "reason")[:5]
    )
    parts = [f"{job.done} indexed", f"{job.skipped} skipped", f"{job.failed} failed"]
    details = "; ".join(f"{row['n']} x {row['reason']}" for row in reasons)
    return ", ".join(parts) + (f" ({details})" if details else "")
