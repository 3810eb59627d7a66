"""Curation work queued from the admin: re-embedding chosen images."""

from __future__ import annotations

from celery import shared_task

from search.services.reindex import images_embed


@shared_task
def images_embed_task(image_ids: list[int]) -> dict:
    """Embed these images again with the configured model (idempotent: the same vectors come out)."""
    report = images_embed(image_ids)
    return {"updated": report.updated, "failed": report.failed}
