"""Images uploaded from the browser or the API into the shared collection.

A small batch goes through the ingest pipeline at once and answers with each file's outcome. A larger one is staged
in media storage (`uploads/<job>/`) and becomes a job whose batches workers ingest like a folder's, reading each file
back through the storage API (so web and workers may run on different hosts); a staged file is deleted once its item
is finished, whatever the outcome. Each file is checked by content before anything is staged, so a refused file is
answered at once and never stored.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from django.conf import settings
from django.core.files.base import ContentFile, File
from django.core.files.storage import default_storage
from django.db import transaction

from search.imagefiles import InvalidImage, open_checked
from search.models import ImageSource, Job, JobItem, JobKind
from search.services.captions import captions_queue
from search.services.ingest import ADDED, ImageCandidate, ingest_batch
from search.services.jobs import STAGING_FOLDER, ingest_job_enqueue, staged_files_delete

logger = logging.getLogger(__name__)

REFUSED = "refused"  # turned away before ingest: too large, not an image, a format not accepted


@dataclass(frozen=True)
class UploadOutcome:
    name: str
    state: str  # "added" | "present" | "refused" | "failed" | "queued"
    reason: str = ""
    image_id: int | None = None


@dataclass
class UploadResult:
    outcomes: list[UploadOutcome] = field(default_factory=list)
    job: Job | None = None  # set when the batch was large enough to run in the background


def images_upload(files: list[File], *, user, category: str = "") -> UploadResult:
    """Check every file, then ingest the acceptable ones now (a small batch) or as a background job."""
    checked = [(file, _refusal(file)) for file in files]
    accepted = [file for file, reason in checked if reason is None]
    refused = [UploadOutcome(_name(file), REFUSED, reason) for file, reason in checked if reason is not None]
    if len(accepted) > settings.UPLOAD_SYNC_MAX_FILES:
        job = _upload_job_create(accepted, user=user, category=category)
        queued = [UploadOutcome(_name(file), "queued") for file in accepted]
        return UploadResult(outcomes=_in_order(files, refused + queued), job=job)
    return UploadResult(outcomes=_in_order(files, refused + _ingest_now(accepted, user=user, category=category)))


def _ingest_now(files: list[File], *, user, category: str) -> list[UploadOutcome]:
    if not files:
        return []
    from search.encoder import get_encoder  # the encoder is loaded only where a batch is ingested here

    candidates = [
        ImageCandidate(data=_read(file), name=_name(file), source=ImageSource.UPLOAD, category=category)
        for file in files
    ]
    outcomes = ingest_batch(candidates, encoder=get_encoder())
    captions_queue([outcome.image.pk for outcome in outcomes if outcome.state == ADDED])
    return [
        UploadOutcome(
            outcome.candidate.original_name,
            outcome.state,
            outcome.reason if outcome.state != ADDED else "",
            outcome.image.pk if outcome.image is not None else None,
        )
        for outcome in outcomes
    ]


def _upload_job_create(files: list[File], *, user, category: str) -> Job:
    """Stage the files and record a job with an item per file; its batches are queued once that commits."""
    staged: list[str] = []
    try:
        with transaction.atomic():
            job = Job.objects.create(
                kind=JobKind.UPLOAD,
                user=user,
                query=f"{len(files)} uploaded files",
                params={"category": category},
                total=len(files),
            )
            items = []
            for number, file in enumerate(files):
                name = default_storage.save(f"{STAGING_FOLDER}/{job.pk}/{number:05d}", ContentFile(_read(file)))
                staged.append(name)
                items.append(JobItem(job=job, source=name, name=_name(file)[:255]))
            JobItem.objects.bulk_create(items)
            transaction.on_commit(lambda: ingest_job_enqueue(job))
    except Exception:
        staged_files_delete(staged)  # the job rolled back: nothing of it may stay in storage
        raise
    return job


def _refusal(file: File) -> str | None:
    """Why the file cannot be added, from its size and header only (no pixel decoded: the pipeline decodes it once,
    later); None if it may. The same checks load_image starts with."""
    if file.size > settings.IMAGE_MAX_BYTES:  # before reading a byte of it
        return f"the file is {file.size:,} bytes; the limit is {settings.IMAGE_MAX_BYTES:,}"
    try:
        open_checked(_read(file), max_pixels=settings.IMAGE_MAX_PIXELS)
    except InvalidImage as error:
        return str(error)
    return None


def _read(file: File) -> bytes:
    file.seek(0)
    return file.read()


def _name(file: File) -> str:
    return (getattr(file, "name", "") or "upload").rsplit("/", 1)[-1][:255]


def _in_order(files: list[File], outcomes: list[UploadOutcome]) -> list[UploadOutcome]:
    """Outcomes in the order the files were sent (refusals are decided first)."""
    pending = {}
    for outcome in outcomes:
        pending.setdefault(outcome.name, []).append(outcome)
    return [pending[_name(file)].pop(0) for file in files]
