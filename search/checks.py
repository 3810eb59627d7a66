"""System checks of the search app (`manage.py check --database default`; migrate runs them too)."""

from __future__ import annotations

from django.conf import settings
from django.core.checks import Tags, Warning, register
from django.db import DatabaseError


@register(Tags.database)
def vectors_of_another_model(app_configs=None, databases=None, **kwargs) -> list[Warning]:
    """Images embedded by another model than the configured one never show up in search: say so, and what to do."""
    if not databases:
        return []
    from search.encoder import model_key_for
    from search.models import Image

    configured = model_key_for(settings.CLIP_MODEL, settings.CLIP_PRETRAINED)
    try:
        stale = Image.objects.needing_embedding(configured).count()
    except DatabaseError:  # not migrated yet: migrate runs the checks before it creates the table
        return []
    if not stale:
        return []
    return [
        Warning(
            f"{stale:,} images carry vectors of another model than the configured {configured} (or none), so searches "
            "never find them.",
            hint="Run `manage.py reindex` to embed them with the configured model (resumable; a batch at a time).",
            id="search.W001",
        )
    ]


@register(Tags.database)
def vector_index_missing(app_configs=None, databases=None, **kwargs) -> list[Warning]:
    """A collection without the HNSW index of the VECTOR_INDEX kind is searched by sequential scans: say so."""
    if not databases:
        return []
    from search.encoder import model_key_for
    from search.models import Image
    from search.vector_index import hnsw_index_name, index_exists

    configured = model_key_for(settings.CLIP_MODEL, settings.CLIP_PRETRAINED)
    name = hnsw_index_name(configured, kind=settings.VECTOR_INDEX)
    try:
        if not Image.objects.embedded_with(configured).exists():
            return []
        if index_exists(name):
            return []
    except DatabaseError:
        return []
    return [
        Warning(
            f"VECTOR_INDEX={settings.VECTOR_INDEX}, but the collection of {configured} has no such index ({name}): "
            "every search scans all its vectors.",
            hint=f"Run `manage.py reindex --index {settings.VECTOR_INDEX}` (it builds the index concurrently).",
            id="search.W002",
        )
    ]
