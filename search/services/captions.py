"""Captions: generate them (search.captioner), keep their history, and embed them for image → text retrieval.

Idempotent: an image already captioned by the configured captioner is skipped, so a task or command can be run again
(or retried) at any time. A curator's caption (caption_curated) is never overwritten: the update itself checks the
flag, so a curator editing while a batch runs still wins. Every caption change writes a CaptionRevision.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from django.conf import settings
from django.db import transaction

from search import background
from search.background import queue_on_commit
from search.captioner import Captioner, get_captioner
from search.encoder import ClipEncoder, get_encoder
from search.files import load_stored_image, load_stored_images
from search.imagefiles import InvalidImage
from search.models import CaptionRevision, Image, QueryImage
from search.vector_index import ensure_caption_hnsw_index

logger = logging.getLogger(__name__)


@dataclass
class CaptionReport:
    captioned: int = 0
    unchanged: int = 0
    skipped_curated: int = 0
    failed: list[tuple[int, str]] = field(default_factory=list)  # (image id, reason)


def captions_enabled() -> bool:
    """An empty CAPTION_MODEL turns captioning off (machines that have no captioning weights)."""
    return bool(settings.CAPTION_MODEL)


def captions_queue(image_ids: list[int] | None = None) -> None:
    """Caption these images (None: every image that needs it) in a worker, once the current transaction commits.

    A broker that is down costs a log line, never the ingest that asked; the captions can be made later with
    `manage.py caption --missing`.
    """
    if captions_enabled() and image_ids != []:
        queue_on_commit(background.CAPTION_IMAGES, image_ids)


def images_caption(
    *,
    image_ids: Iterable[int] | None = None,
    missing_only: bool = False,
    captioner: Captioner | None = None,
    encoder: ClipEncoder | None = None,
    batch_size: int | None = None,
    on_batch: Callable[[int], None] | None = None,
) -> CaptionReport:
    """Caption the images that need it (all, or those of `image_ids`), a committed batch at a time."""
    captioner = captioner or get_captioner()
    encoder = encoder or get_encoder()
    ensure_caption_hnsw_index(encoder.model_key, encoder.dim)
    pending = Image.objects.needing_caption(captioner.model_key, missing_only=missing_only)
    if image_ids is not None:
        pending = pending.filter(id__in=list(image_ids))
    size = batch_size or settings.CAPTION_BATCH_SIZE
    report = CaptionReport()
    last_id = 0
    while batch := list(pending.filter(id__gt=last_id).defer("caption_embedding").order_by("id")[:size]):
        last_id = batch[-1].id
        _caption_batch(batch, captioner, encoder, report)
        if on_batch:
            on_batch(len(batch))
    return report


def _caption_batch(batch: list[Image], captioner: Captioner, encoder: ClipEncoder, report: CaptionReport) -> None:
    readable, failed = load_stored_images(batch)
    report.failed.extend(failed)
    captions = captioner.caption([loaded.image for _, loaded in readable])
    vectors = encoder.encode_captions(captions) if captions else []
    for (image, _), caption, vector in zip(readable, captions, vectors, strict=True):
        outcome = caption_write(
            image=image, caption=caption, caption_model=captioner.model_key, vector=vector, model_key=encoder.model_key
        )
        if outcome == "curated":
            report.skipped_curated += 1
        elif outcome == "unchanged":
            report.unchanged += 1
        else:
            report.captioned += 1


@transaction.atomic
def caption_write(*, image: Image, caption: str, caption_model: str, vector, model_key: str) -> str:
    """Store a generated caption unless a curator owns it: "curated", "unchanged" or "captioned"."""
    updated = Image.objects.filter(id=image.id, caption_curated=False).update(
        caption=caption, caption_model=caption_model, caption_embedding=vector, caption_embedding_model=model_key
    )
    if not updated:
        return "curated"
    if caption == image.caption:
        return "unchanged"
    CaptionRevision.objects.create(image=image, caption=caption, curated=False, caption_model=caption_model)
    return "captioned"


def captions_embed(*, encoder: ClipEncoder | None = None, batch_size: int = 256) -> int:
    """Embed every caption that has no vector from the configured CLIP model (after a model change); the count."""
    encoder = encoder or get_encoder()
    ensure_caption_hnsw_index(encoder.model_key, encoder.dim)
    pending = Image.objects.exclude(caption="").exclude(
        caption_embedding_model=encoder.model_key, caption_embedding__isnull=False
    )
    done = 0
    while batch := list(pending.only("id", "caption").order_by("id")[:batch_size]):
        vectors = encoder.encode_captions([image.caption for image in batch])
        for image, vector in zip(batch, vectors, strict=True):
            image.caption_embedding, image.caption_embedding_model = vector, encoder.model_key
        Image.objects.bulk_update(batch, ["caption_embedding", "caption_embedding_model"])
        done += len(batch)
    return done


def captions_import(
    captions: Iterable[tuple[str, str]], *, caption_model: str = "dataset", encoder: ClipEncoder | None = None
) -> int:
    """Write known captions by sha256 — a dataset's own captions file standing in for a captioner; the count.

    Curated captions are kept; every change gets a revision and a caption vector, as generated captions do.
    """
    encoder = encoder or get_encoder()
    ensure_caption_hnsw_index(encoder.model_key, encoder.dim)
    by_sha = dict(captions)
    images = list(Image.objects.filter(sha256__in=list(by_sha), caption_curated=False).only("id", "sha256", "caption"))
    vectors = encoder.encode_captions([by_sha[image.sha256] for image in images]) if images else []
    written = 0
    for image, vector in zip(images, vectors, strict=True):
        outcome = caption_write(
            image=image,
            caption=by_sha[image.sha256],
            caption_model=caption_model,
            vector=vector,
            model_key=encoder.model_key,
        )
        written += outcome == "captioned"
    return written


def caption_query_image(query_image: QueryImage, *, captioner: Captioner | None = None) -> str:
    """Caption an uploaded query image and keep it on the row, so the next turn can use or merge it."""
    captioner = captioner or get_captioner()
    try:
        loaded = load_stored_image(query_image.file.name)
    except InvalidImage as error:
        logger.warning("Query image %s cannot be captioned: %s", query_image.pk, error)
        return ""
    query_image.caption = captioner.caption([loaded.image])[0]
    query_image.save(update_fields=["caption"])
    return query_image.caption
