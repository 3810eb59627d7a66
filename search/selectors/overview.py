"""Reads for a new user's first page: how large the collection is, what it holds, and what to try typing."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Count

from search.models import Image

EXAMPLE_COUNT = 4
EXAMPLE_MAX_LENGTH = 60
CAPTIONS_LOOKED_AT = 60


@dataclass(frozen=True)
class Overview:
    image_count: int
    categories: list[str]
    examples: list[str]


def collection_overview() -> Overview:
    """The number of visible images, their largest categories, and a few short captions to try as queries."""
    images = Image.objects.visible().order_by()
    categories = list(
        images.exclude(category="").values_list("category", flat=True).annotate(n=Count("id")).order_by("-n")[:6]
    )
    captions = images.exclude(caption="").order_by("-id").values_list("caption", flat=True)[:CAPTIONS_LOOKED_AT]
    short = [text for text in dict.fromkeys(captions) if len(text) <= EXAMPLE_MAX_LENGTH]
    # Spread over the captions looked at, so the examples are not four near-twins ingested together.
    examples = short[:: max(1, len(short) // EXAMPLE_COUNT)][:EXAMPLE_COUNT]
    return Overview(image_count=images.count(), categories=categories, examples=examples or categories[:EXAMPLE_COUNT])
