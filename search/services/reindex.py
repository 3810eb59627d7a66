"""Re-embedding the collection with the configured CLIP model (after a model change)."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from django.conf import settings

from search import background
from search.background import queue_on_commit
from search.encoder import ClipEncoder, get_encoder
from search.files import load_stored_images
from search.models import Image
from search.services.images import image_vectors_save
from search.vector_index import drop_hnsw_indexes, ensure_hnsw_index, hnsw_index_name

logger = logging.getLogger(__name__)


@dataclass
class ReindexReport:
    updated: int = 0
    failed: list[tuple[int, str]] = field(default_factory=list)  # (image id, reason)


def images_reindex(
    *,
    encoder: ClipEncoder | None = None,
    batch_size: int | None = None,
    on_batch: Callable[[int], None] | None = None,
) -> ReindexReport:
    """Embed every image whose vector is missing or from another model, a committed batch at a time.

    Each batch commits on its own, so an interrupted run loses at most one batch and the next run resumes with
    the images still left (they are the ones not yet carrying this model's key).
    """
    encoder = encoder or get_encoder()
    ensure_hnsw_index(encoder.model_key, encoder.dim)
    size = batch_size or settings.CLIP_BATCH_SIZE
    report = ReindexReport()
    last_id = 0
    pending = Image.objects.needing_embedding(encoder.model_key)
    while batch := list(pending.filter(id__gt=last_id).order_by("id")[:size]):
        last_id = batch[-1].id
        done = _reindex_batch(batch, encoder, report)
        if on_batch:
            on_batch(done)
    return report


@dataclass
class IndexSwitch:
    built: str  # the index searches of this kind use
    seconds: float
    dropped: list[str] = field(default_factory=list)


def vector_index_build(kind: str, *, encoder: ClipEncoder | None = None, drop_others: bool = False) -> IndexSwitch:
    """Build the current model's HNSW index of `kind` (vector, halfvec, bit), concurrently; drop the others if asked.

    Searches use the kind VECTOR_INDEX names: build the new index first, switch the setting, then drop the old one.
    """
    encoder = encoder or get_encoder()
    started = time.perf_counter()
    ensure_hnsw_index(encoder.model_key, encoder.dim, kind=kind)
    switch = IndexSwitch(hnsw_index_name(encoder.model_key, kind=kind), time.perf_counter() - started)
    if drop_others:
        switch.dropped = drop_hnsw_indexes(encoder.model_key, keep=kind)
    return switch


def images_embed_queue(image_ids: list[int]) -> None:
    """Re-embed these images in a worker once the current transaction commits (a curator's "re-embed"); a broker
    that is down costs a log line, never the request that asked."""
    if image_ids:
        queue_on_commit(background.EMBED_IMAGES, image_ids)


def images_embed(image_ids: Iterable[int], *, encoder: ClipEncoder | None = None) -> ReindexReport:
    """Embed the given images again with the configured model (a curator's "re-embed"), a batch at a time."""
    encoder = encoder or get_encoder()
    ensure_hnsw_index(encoder.model_key, encoder.dim)
    ids = sorted(set(image_ids))
    size = settings.CLIP_BATCH_SIZE
    report = ReindexReport()
    for start in range(0, len(ids), size):
        _reindex_batch(list(Image.objects.filter(id__in=ids[start : start + size]).order_by("id")), encoder, report)
    return report


def _reindex_batch(batch: list[Image], encoder: ClipEncoder, report: ReindexReport) -> int:
    readable, failed = load_stored_images(batch)
    report.failed.extend(failed)
    vectors = encoder.encode_images([loaded.image for _, loaded in readable])
    image_vectors_save(
        [(image.id, vector) for (image, _), vector in zip(readable, vectors, strict=True)], encoder.model_key
    )
    report.updated += len(readable)
    return len(batch)
