"""Caption work: images after ingest or fetch, and query images uploaded to a session."""

from __future__ import annotations

from celery import shared_task
from django.db import OperationalError

from search.models import QueryImage
from search.pushes import session_push
from search.services.captions import caption_query_image, captions_embed, captions_enabled, images_caption

RETRY = {"autoretry_for": (OSError, OperationalError), "retry_backoff": True, "max_retries": 3}


@shared_task(**RETRY)
def caption_images_task(image_ids: list[int] | None = None) -> dict:
    """Caption these images (None: every image that needs it) and embed the captions; safe to run again."""
    if not captions_enabled():
        return {"disabled": True}
    report = images_caption(image_ids=image_ids)
    embedded = captions_embed()  # curated captions edited since, and captions of a previous CLIP model
    return {
        "captioned": report.captioned,
        "unchanged": report.unchanged,
        "skipped_curated": report.skipped_curated,
        "failed": report.failed,
        "embedded": embedded,
    }


@shared_task(**RETRY)
def caption_query_image_task(query_image_id: int) -> str:
    """Caption an uploaded query image and push the caption to the session's open pages."""
    query_image = QueryImage.objects.filter(pk=query_image_id).first()
    if query_image is None:
        return ""  # purged with its session
    if not query_image.caption:
        caption_query_image(query_image)
    event = {"type": "caption", "query_image_id": query_image.pk, "caption": query_image.caption}
    session_push(query_image.session_id, event)
    return query_image.caption
