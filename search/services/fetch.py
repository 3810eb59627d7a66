"""Fetching images from the web for a query: DuckDuckGo finds them, the guarded downloader fetches them, and each
good image is checked, deduplicated, embedded and stored with its source URL, as a resumable job.
"""

from __future__ import annotations

import logging
from pathlib import PurePosixPath
from urllib.parse import unquote, urlsplit

from django.conf import settings
from django.db import transaction

from search import background
from search.background import queue
from search.encoder import ClipEncoder, get_encoder
from search.errors import InvalidQuery
from search.models import ImageSource, Job, JobItem, JobItemState, JobKind, JobState
from search.services.captions import captions_queue
from search.services.ingest import ImageCandidate
from search.services.jobs import (
    job_announce,
    job_cancelled,
    job_fail,
    job_finish_if_done,
    job_item_finish,
    job_items_ingest,
    job_mark_running,
    job_update_counts,
)
from search.webfetch import ddg
from search.webfetch.download import Downloaded, DownloadLimits, download_images

logger = logging.getLogger(__name__)

MAX_QUERY_LENGTH = 200
# Some results always fail (gone, refused, not images): ask for more candidates than images wanted.
CANDIDATE_FACTOR = 2
CANDIDATE_EXTRA = 10
# Downloads per step: at most this many rounds of WEB_FETCH_CONCURRENCY, so a step stays within a few timeouts.
ROUNDS_PER_STEP = 4


def fetch_job_create(
    *, query: str, count: int, category: str = "", user=None, session_id: int | None = None, enqueue: bool = True
) -> Job:
    """Record a fetch job and (unless enqueue=False) queue it once that commits; InvalidQuery for bad input."""
    query = " ".join(query.split())
    if not query:
        raise InvalidQuery("Say what to search the web for.", field="query")
    if len(query) > MAX_QUERY_LENGTH:
        raise InvalidQuery(f"The query is longer than {MAX_QUERY_LENGTH} characters.", field="query")
    if not 1 <= count <= settings.FETCH_MAX_COUNT:
        raise InvalidQuery(f"Ask for 1 to {settings.FETCH_MAX_COUNT} images.", field="count")
    params = {"count": count, "category": (category or "").strip()[:100], "session_id": session_id}
    with transaction.atomic():
        job = Job.objects.create(kind=JobKind.FETCH, user=user, query=query, params=params)
        if enqueue:
            transaction.on_commit(lambda: fetch_job_enqueue(job))
    return job


def fetch_job_enqueue(job: Job) -> None:
    """Queue the job's first round on a worker (each round queues the next)."""
    task_id = queue(background.FETCH_ROUND, job.pk, retry=True)
    Job.objects.filter(pk=job.pk, task_id="").update(task_id=task_id or "")


def fetch_job_run(
    job_id: int, *, encoder: ClipEncoder | None = None, limits: DownloadLimits | None = None, task_id: str = ""
) -> Job:
    """Run (or resume) a fetch job in this process until nothing is pending or it is cancelled."""
    while (job := fetch_job_step(job_id, encoder=encoder, limits=limits, task_id=task_id)).state == JobState.RUNNING:
        pass
    return job


def fetch_job_step(
    job_id: int, *, encoder: ClipEncoder | None = None, limits: DownloadLimits | None = None, task_id: str = ""
) -> Job:
    """One round of a fetch job: find the candidates (first round only), then download, check and store the next
    chunk. Returns the job: still running while items are pending, so a worker queues the next round as a task of
    its own and no task runs longer than a few download timeouts."""
    job = job_mark_running(Job.objects.get(pk=job_id), task_id=task_id)
    if job.is_finished:
        return job
    if not job.items.exists():
        try:
            _find_candidates(job)
        except ddg.SearchFailed as error:
            return job_fail(job, str(error))
    encoder = encoder or get_encoder()
    limits = limits or DownloadLimits.from_settings()
    if not job_cancelled(job) and (chunk := _next_chunk(job, limits)):
        captions_queue(_fetch_chunk(job, chunk, encoder, limits))
    return job_finish_if_done(job)


def _find_candidates(job: Job) -> None:
    wanted = job.params["count"]
    results = ddg.image_search(job.query, max_results=wanted * CANDIDATE_FACTOR + CANDIDATE_EXTRA)
    JobItem.objects.bulk_create([JobItem(job=job, source=r.url[:2000]) for r in results], ignore_conflicts=True)
    job = job_update_counts(job)
    job_announce(job, "found", found=job.total)


def _next_chunk(job: Job, limits: DownloadLimits) -> list[JobItem]:
    """The next items to download: as many as images still wanted (at least one round of the downloader)."""
    job = job_update_counts(job)
    missing = job.params["count"] - job.done
    pending = job.items.filter(state=JobItemState.PENDING).order_by("id")
    if missing <= 0:
        for item in pending:
            job_item_finish(job, item, JobItemState.SKIPPED, reason="not needed: enough images indexed")
        return []
    return list(pending[: min(max(missing, limits.concurrency), limits.concurrency * ROUNDS_PER_STEP)])


def _fetch_chunk(job: Job, chunk: list[JobItem], encoder: ClipEncoder, limits: DownloadLimits) -> list[int]:
    results = download_images([item.source for item in chunk], limits)
    if job_cancelled(job):  # downloads take a while: a cancel meanwhile leaves the chunk pending, unrecorded
        return []
    candidates = []
    for item, result in zip(chunk, results, strict=True):
        if not isinstance(result, Downloaded):
            job_item_finish(job, item, JobItemState.SKIPPED, reason=result.reason)
            continue
        job_announce(job, "downloaded", url=item.source, bytes=len(result.data))
        candidates.append(_candidate(job, item, result.data))
    # A download that is not a usable image is skipped, like one that failed: the web is full of them.
    return job_items_ingest(job, candidates, encoder=encoder, failed_state=JobItemState.SKIPPED)


def _candidate(job: Job, item: JobItem, data: bytes) -> ImageCandidate:
    return ImageCandidate(
        data=data,
        name=PurePosixPath(unquote(urlsplit(item.source).path)).name[:255],
        category=job.params.get("category") or job.query[:100],
        source=ImageSource.WEB,
        source_url=item.source,
        key=item,
    )
