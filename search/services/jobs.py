"""Background jobs: their state and counters in the database, their progress pushed to open pages, and folder ingest
split into batches on the `embed` queue.

A job's items (JobItem rows) carry the truth: every item is pending until a worker finishes it in one transaction
with the image it produced, so a job interrupted anywhere resumes by working through the items still pending, and
the counters are always recomputed from the items, never incremented.

Cancelling is cooperative: job_cancel only marks the job, and workers look at the mark before each batch and again
right before a batch's first write, so a cancelled job keeps every item it finished and leaves the rest pending.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.db.models import Count, Q
from django.utils import timezone

from search.encoder import ClipEncoder, get_encoder
from search.imagefiles import InvalidImage, LoadedImage
from search.models import Image, ImageSource, Job, JobItem, JobItemState, JobKind, JobState
from search.pushes import job_push, session_push
from search.services.captions import captions_queue
from search.services.images import image_create, ingest_decode_side, make_thumbnails
from search.services.ingest import ImageCandidate, find_image_files, read_candidate
from search.vector_index import ensure_hnsw_index
from search.workpool import parallel_map

logger = logging.getLogger(__name__)

FINISHED_STATES = frozenset({JobState.SUCCEEDED, JobState.FAILED, JobState.CANCELLED})
CANCELLABLE_STATES = frozenset({JobState.PENDING, JobState.RUNNING})


# --- State and progress ---------------------------------------------------------------------------------------------


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
        "processed": job.done + job.skipped + job.failed,
        "message": job.message,
    }


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
        if locked.state in FINISHED_STATES or locked.items.filter(state=JobItemState.PENDING).exists():
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
    Job.objects.filter(pk=job.pk).exclude(state__in=FINISHED_STATES).update(
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
        if locked.state not in CANCELLABLE_STATES:
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


def job_summary(job: Job) -> str:
    reasons = (
        job.items.exclude(state__in=[JobItemState.DONE, JobItemState.PENDING])
        .values("reason")
        .annotate(n=Count("id"))
        .order_by("-n", "reason")[:5]
    )
    parts = [f"{job.done} indexed", f"{job.skipped} skipped", f"{job.failed} failed"]
    details = "; ".join(f"{row['n']} x {row['reason']}" for row in reasons)
    return ", ".join(parts) + (f" ({details})" if details else "")


# --- Storing the images of a batch of items -------------------------------------------------------------------------


@dataclass(frozen=True)
class ItemImage:
    """A job item whose bytes were read and checked, ready to be embedded and stored."""

    item: JobItem
    loaded: LoadedImage
    original_name: str
    category: str
    source: str
    source_url: str = ""


def job_item_finish(job: Job, item: JobItem, state: str, *, reason: str = "", image: Image | None = None) -> None:
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


def job_items_store(job: Job, entries: Sequence[ItemImage], *, encoder: ClipEncoder) -> list[int]:
    """Embed the batch together, then store each new image with its item's outcome in one transaction.

    Content already indexed (or repeated inside the batch) is skipped with the existing image linked. Nothing is
    written if the job was cancelled meanwhile (its items stay pending). Returns the ids of the images added.
    """
    fresh, known = _split_known(entries)
    vectors = encoder.encode_images([entry.loaded.image for entry in fresh])
    if job_cancelled(job):  # asked after the slow part, right before the batch's first write
        return []
    for entry, image, reason in known:
        job_item_finish(job, entry.item, JobItemState.SKIPPED, reason=reason, image=image)
    thumbnails = make_thumbnails([entry.loaded for entry in fresh])
    added = []
    for entry, vector, thumbnail in zip(fresh, vectors, thumbnails, strict=True):
        with transaction.atomic():
            image = image_create(
                loaded=entry.loaded,
                thumbnail=thumbnail,
                vector=vector,
                model_key=encoder.model_key,
                original_name=entry.original_name,
                source=entry.source,
                source_url=entry.source_url,
                category=entry.category,
            )
            if image is None:  # indexed by someone else since _split_known looked
                existing = Image.objects.get(sha256=entry.loaded.sha256)
                job_item_finish(job, entry.item, JobItemState.SKIPPED, reason="already indexed", image=existing)
                continue
            job_item_finish(job, entry.item, JobItemState.DONE, image=image)
        added.append(image.pk)
    return added


def _split_known(entries: Sequence[ItemImage]) -> tuple[list[ItemImage], list[tuple[ItemImage, Image | None, str]]]:
    """The entries to embed, and those to skip (content indexed already or earlier in the batch) with why."""
    known = dict(Image.objects.filter(sha256__in=[e.loaded.sha256 for e in entries]).values_list("sha256", "id"))
    seen: set[str] = set()
    fresh, skipped = [], []
    for entry in entries:
        sha256 = entry.loaded.sha256
        if sha256 in known or sha256 in seen:
            image = Image.objects.filter(pk=known.get(sha256)).first()
            reason = "already indexed" if sha256 in known else "same content as another item of this job"
            skipped.append((entry, image, reason))
        else:
            seen.add(sha256)
            fresh.append(entry)
    return fresh, skipped


# --- Ingesting a folder as a job ------------------------------------------------------------------------------------


def ingest_job_create(*, root: Path, category: str | None = None, user=None, batch_size: int | None = None) -> Job:
    """Record a job with one item per image file under `root`, and queue its batches once that commits."""
    root = root.resolve()
    candidates = find_image_files(root, category=category)
    with transaction.atomic():
        job = Job.objects.create(
            kind=JobKind.INGEST,
            user=user,
            query=str(root),
            params={"root": str(root), "category": category, "batch_size": batch_size},
            total=len(candidates),
        )
        JobItem.objects.bulk_create([JobItem(job=job, source=str(c.path)) for c in candidates], batch_size=2000)
        transaction.on_commit(lambda: ingest_job_enqueue(job))
    return job


def ingest_job_enqueue(job: Job) -> int:
    """Queue one `embed` task per batch of the job's pending items (also resumes a job whose tasks were lost)."""
    from search.tasks.ingest import ingest_batch_task

    size = job.params.get("batch_size") or settings.INGEST_JOB_BATCH_SIZE
    pending = list(job.items.filter(state=JobItemState.PENDING).order_by("id").values_list("id", flat=True))
    if not pending:
        job_finish_if_done(job)
    batches = [pending[start : start + size] for start in range(0, len(pending), size)]
    for batch in batches:
        ingest_batch_task.delay(job.pk, batch)
    return len(batches)


def ingest_job_batch(job_id: int, item_ids: Sequence[int], *, encoder: ClipEncoder | None = None) -> Job:
    """Read, embed and store the pending items among `item_ids`; close the job when none is left."""
    job = job_mark_running(Job.objects.get(pk=job_id))
    if job.state in FINISHED_STATES:
        return job
    encoder = encoder or get_encoder()
    ensure_hnsw_index(encoder.model_key, encoder.dim)
    items = list(job.items.filter(pk__in=item_ids, state=JobItemState.PENDING).order_by("id"))
    entries, unreadable = [], []
    reduce_to = ingest_decode_side(encoder)
    outcomes = parallel_map(lambda item: _ingest_entry(job, item, reduce_to), items, returning=(InvalidImage,))
    for item, outcome in zip(items, outcomes, strict=True):
        if isinstance(outcome, InvalidImage):
            unreadable.append((item, str(outcome)))
        else:
            entries.append(outcome)
    if job_cancelled(job):
        return job_update_counts(job)
    for item, reason in unreadable:
        job_item_finish(job, item, JobItemState.FAILED, reason=reason)
    added = job_items_store(job, entries, encoder=encoder)
    captions_queue(added)
    job = job_update_counts(job)
    job_announce(job, "progress", added=len(added))
    return job_finish_if_done(job)


def _ingest_entry(job: Job, item: JobItem, reduce_to: int | None) -> ItemImage:
    path = Path(item.source)
    category = job.params.get("category")
    if category is None:
        parts = path.relative_to(job.params["root"]).parts
        category = parts[0] if len(parts) > 1 else ""
    loaded = read_candidate(ImageCandidate(path=path), reduce_to=reduce_to)
    return ItemImage(item=item, loaded=loaded, original_name=path.name, category=category, source=ImageSource.FOLDER)


# --- Reads ---------------------------------------------------------------------------------------------------------


def job_get_for_user(*, user, job_id: int) -> Job:
    """The job if `user` started it (staff see every job); Job.DoesNotExist otherwise."""
    jobs = Job.objects.all() if user.is_staff else Job.objects.filter(user=user)
    return jobs.get(pk=job_id)
