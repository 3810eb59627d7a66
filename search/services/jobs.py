"""Background jobs: their lifecycle (running, progress, finished, failed, cancelled, resumed), their progress pushed to
open pages, and folder ingest as a job, in batches on the `embed` queue.

A job's items (JobItem rows) carry the truth: every item is pending until a worker finishes it in one transaction
with the image it produced, so a job interrupted anywhere resumes by working through the items still pending, and
the counters are always recomputed from the items, never incremented.

Cancelling is cooperative: job_cancel only marks the job, and workers look at the mark before each batch and again
right before a batch's first write, so a cancelled job keeps every item it finished and leaves the rest pending.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path

from django.conf import settings
from django.core.files.storage import default_storage
from django.db import transaction
from django.db.models import Count, Q
from django.utils import timezone

from search import background
from search.background import queue, queue_on_commit
from search.encoder import ClipEncoder, get_encoder
from search.models import ImageSource, Job, JobItem, JobItemState, JobKind, JobState
from search.pushes import job_push, session_push
from search.selectors.jobs import job_snapshot, job_summary
from search.services.captions import captions_queue
from search.services.ingest import (
    ADDED,
    FAILED,
    ImageCandidate,
    IngestOutcome,
    find_image_files,
    folder_category,
    ingest_batch,
)

logger = logging.getLogger(__name__)

# What an item's outcome in the ingest pipeline makes of it.
ITEM_STATES = {ADDED: JobItemState.DONE, FAILED: JobItemState.FAILED}


def job_announce(job: Job, event: str, **data) -> None:
    """Push one progress event to the job's pages and, if it was started from a search session, to that session's."""
    payload = {**job_snapshot(job), "event": event, **data}
    job_push(job.pk, payload)
    if session_id := job.params.get("session_id"):
        session_push(session_id, {**payload, "type": "job"})


def job_mark_running(job: Job, *, task_id: str = "") -> Job:
    if job.state != JobState.PENDING:
        return job
    job.started_at = job.started_at or timezone.now()
    job.task_id = task_id or job.task_id
    # Conditional, so a job cancelled since it was read is not brought back to life.
    started = Job.objects.filter(pk=job.pk, state=JobState.PENDING).update(
        state=JobState.RUNNING, started_at=job.started_at, task_id=job.task_id
    )
    if not started:
        job.refresh_from_db()
        return job
    job.state = JobState.RUNNING
    job_announce(job, "started")
    return job


def job_update_counts(job: Job) -> Job:
    """Recompute the counters from the items, under the job's row lock (batches finish concurrently)."""
    with transaction.atomic():
        locked = Job.objects.select_for_update().get(pk=job.pk)
        counts = JobItem.objects.filter(job=locked).aggregate(
            total=Count("id"),
            done=Count("id", filter=Q(state=JobItemState.DONE)),
            skipped=Count("id", filter=Q(state=JobItemState.SKIPPED)),
            failed=Count("id", filter=Q(state=JobItemState.FAILED)),
        )
        for name, value in counts.items():
            setattr(locked, name, value)
        locked.save(update_fields=list(counts))
    return locked


def job_finish_if_done(job: Job, *, summary: str | None = None) -> Job:
    """Close the job once no item is pending; only one of several concurrent callers closes it and announces it."""
    with transaction.atomic():
        job = job_update_counts(job)
        locked = Job.objects.select_for_update().get(pk=job.pk)
        if locked.is_finished or locked.items.filter(state=JobItemState.PENDING).exists():
            return locked
        locked.state = JobState.SUCCEEDED
        locked.message = summary or job_summary(locked)
        locked.finished_at = timezone.now()
        locked.save(update_fields=["state", "message", "finished_at"])
    logger.info("job %s finished: %s", locked.pk, locked.message)
    job_announce(locked, "finished")
    return locked


def job_fail(job: Job, message: str) -> Job:
    """Stop the job with a message for the user; the items already done stay done."""
    job = job_update_counts(job)
    Job.objects.filter(pk=job.pk).exclude(state__in=Job.FINISHED_STATES).update(
        state=JobState.FAILED, message=message, finished_at=timezone.now()
    )
    job.refresh_from_db()
    logger.warning("job %s failed: %s", job.pk, message)
    job_announce(job, "failed")
    return job


def job_cancel(*, job: Job, user=None) -> bool:
    """Cancel a pending or running job (False if it had already ended); its workers stop at their next check."""
    with transaction.atomic():
        locked = job_update_counts(job)  # locks the row until the end of this transaction
        if not locked.is_cancellable:
            return False
        by = f" by {user.get_username()}" if user is not None else ""
        locked.state = JobState.CANCELLED
        locked.message = f"Cancelled{by}. So far: {job_summary(locked)}."
        locked.finished_at = timezone.now()
        locked.save(update_fields=["state", "message", "finished_at"])
        transaction.on_commit(lambda: job_announce(locked, "cancelled"))
    logger.info("job %s cancelled%s", locked.pk, by)
    return True


def job_cancelled(job: Job) -> bool:
    """Whether the job was cancelled since it was read (one small query: workers ask between batches)."""
    return Job.objects.filter(pk=job.pk, state=JobState.CANCELLED).exists()


def job_item_finish(job: Job, item: JobItem, state: str, *, reason: str = "", image=None) -> None:
    """Record one item's outcome, unless another run already did (a redelivered task does nothing twice)."""
    updated = JobItem.objects.filter(pk=item.pk, state=JobItemState.PENDING).update(
        state=state, reason=reason[:1000], image=image, updated_at=timezone.now()
    )
    item.state, item.reason, item.image = state, reason, image
    if updated and job.kind == JobKind.FETCH:  # a fetch is small enough to report every item as it happens
        event = {JobItemState.DONE: "indexed"}.get(state, state)
        image_id = image.pk if image else None
        transaction.on_commit(
            lambda: job_announce(job_update_counts(job), event, url=item.source, reason=reason, image=image_id)
        )


def job_items_ingest(
    job: Job, candidates: list[ImageCandidate], *, encoder: ClipEncoder, failed_state: str = JobItemState.FAILED
) -> list[int]:
    """Run the candidates (each `key` a JobItem of `job`) through the ingest pipeline, finishing each item with its
    image in one transaction; content already indexed is skipped with the existing image linked. Nothing is written
    if the job is cancelled meanwhile (its items stay pending). Returns the ids of the images added."""

    def record(outcome: IngestOutcome) -> None:
        state = ITEM_STATES.get(outcome.state, JobItemState.SKIPPED)
        if outcome.state == FAILED:
            state = failed_state
        job_item_finish(job, outcome.candidate.key, state, reason=outcome.reason, image=outcome.image)

    outcomes = ingest_batch(candidates, encoder=encoder, record=record, proceed=lambda: not job_cancelled(job))
    return [outcome.image.pk for outcome in outcomes if outcome.state == ADDED]


def job_resume(job: Job) -> bool:
    """Queue the pending items of a job again, once the current transaction commits (the one resume path: after a
    retry of failed items, or for a job whose tasks were lost). False for a cancelled job, or a kind no task runs."""
    if not job.is_resumable:
        return False
    if job.kind in (JobKind.INGEST, JobKind.UPLOAD):
        transaction.on_commit(lambda: ingest_job_enqueue(job))
        return True
    if job.kind == JobKind.FETCH:
        queue_on_commit(background.FETCH_ROUND, job.pk, retry=True)
        return True
    return False


@transaction.atomic
def job_retry_failed(*, job: Job) -> int:
    """Set a job's failed items back to pending (and the job with them) and resume it; how many were set back."""
    job = Job.objects.select_for_update().get(id=job.id)
    if not job.is_resumable:
        return 0
    retried = job.items.filter(state=JobItemState.FAILED).update(state=JobItemState.PENDING, reason="")
    if retried:
        job.failed = max(job.failed - retried, 0)
        job.state = JobState.PENDING
        job.finished_at = None
        job.save(update_fields=["failed", "state", "finished_at"])
        job_resume(job)
    return retried


# --- Ingesting a folder as a job ------------------------------------------------------------------------------------


def ingest_job_create(
    *,
    root: Path,
    category: str | None = None,
    user=None,
    batch_size: int | None = None,
    in_place: bool = False,
    paths: Sequence[Path] | None = None,
) -> Job:
    """Record a job with one item per image file under `root` (or per file of `paths`, all under `root`), and queue
    its batches once that commits."""
    root = root.resolve()
    candidates = find_image_files(root, category=category) if paths is None else [ImageCandidate(path=p) for p in paths]
    with transaction.atomic():
        job = Job.objects.create(
            kind=JobKind.INGEST,
            user=user,
            query=str(root),
            params={"root": str(root), "category": category, "batch_size": batch_size, "in_place": in_place},
            total=len(candidates),
        )
        JobItem.objects.bulk_create([JobItem(job=job, source=str(c.path)) for c in candidates], batch_size=2000)
        transaction.on_commit(lambda: ingest_job_enqueue(job))
    return job


def ingest_job_enqueue(job: Job) -> int:
    """Queue one `embed` task per batch of the job's pending items (also resumes a job whose tasks were lost)."""
    size = job.params.get("batch_size") or settings.INGEST_JOB_BATCH_SIZE
    pending = list(job.items.filter(state=JobItemState.PENDING).order_by("id").values_list("id", flat=True))
    if not pending:
        job_finish_if_done(job)
    batches = [pending[start : start + size] for start in range(0, len(pending), size)]
    for batch in batches:
        queue(background.INGEST_BATCH, job.pk, batch, retry=True)
    return len(batches)


def ingest_job_batch(job_id: int, item_ids: Sequence[int], *, encoder: ClipEncoder | None = None) -> Job:
    """Read, embed and store the pending items among `item_ids`; close the job when none is left."""
    job = job_mark_running(Job.objects.get(pk=job_id))
    if job.is_finished:
        return job
    items = list(job.items.filter(pk__in=item_ids, state=JobItemState.PENDING).order_by("id"))
    if job.kind == JobKind.UPLOAD:
        candidates = _staged_candidates(job, items)
    else:
        root, category = job.params["root"], job.params.get("category")
        in_place = job.params.get("in_place", False)
        candidates = [
            ImageCandidate(
                path=Path(item.source),
                category=folder_category(root, item.source, category),
                key=item,
                in_place=in_place,
            )
            for item in items
        ]
    added = job_items_ingest(job, candidates, encoder=encoder or get_encoder())
    if job.kind == JobKind.UPLOAD:
        finished = [item.source for item in items if item.state != JobItemState.PENDING]
        staged_files_delete(finished)  # finished items never need their staged file again
    captions_queue(added)
    job = job_update_counts(job)
    job_announce(job, "progress", added=len(added))
    return job_finish_if_done(job)


# --- Uploaded files as a job (search.services.uploads stages them) ---------------------------------------------------

STAGING_FOLDER = "uploads"  # uploads/<job id>/<n>: files waiting for their job's worker, in media storage


def _staged_candidates(job: Job, items: list[JobItem]) -> list[ImageCandidate]:
    """The staged files of an upload job's items, read back through the storage API (workers may be other hosts)."""
    candidates = []
    for item in items:
        try:
            with default_storage.open(item.source, "rb") as handle:
                data = handle.read()
        except OSError:
            data = b""  # the pipeline refuses it with its reason ("the file is empty")
        candidates.append(
            ImageCandidate(
                data=data,
                name=item.name or item.source.rsplit("/", 1)[-1],
                source=ImageSource.UPLOAD,
                category=job.params.get("category", ""),
                key=item,
            )
        )
    return candidates


def staged_files_delete(names: Sequence[str]) -> None:
    for name in names:
        try:
            default_storage.delete(name)
        except OSError as error:
            logger.warning("Could not delete the staged upload %s: %s", name, error)
