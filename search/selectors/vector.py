"""Vector search: the query's vector, and the nearest visible images to it within a scope."""

from __future__ import annotations

import functools

import numpy as np
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.urls import reverse

from search.encoder import ClipEncoder
from search.errors import InvalidQuery
from search.models import Image, ImageQuerySet
from search.query import PhotoFilters, SearchHit, SearchRequest, SearchScope


def query_vector(request: SearchRequest, encoder: ClipEncoder) -> np.ndarray:
    """The normalised query: the text vector, the image vector, or their weighted sum."""
    text = request.text.strip()
    text_vector = encoder.encode_text([text])[0] if text else None
    image_vector = encoder.encode_images([request.image.image])[0] if request.image is not None else None
    if image_vector is None:
        return text_vector
    if text_vector is None:
        return image_vector
    weight = settings.SEARCH_IMAGE_WEIGHT if request.image_weight is None else request.image_weight
    return normalise(weight * image_vector + (1.0 - weight) * text_vector)


def normalise(vector: np.ndarray) -> np.ndarray:
    norm = float(np.linalg.norm(vector))
    if norm == 0.0:
        raise InvalidQuery("The query cancels itself out; change the weights or the feedback.")
    return (vector / norm).astype(np.float32)


# The columns a SearchHit is made of: a search reads only these (never the 2 KB vectors).
HIT_FIELDS = ("id", "caption", "category", "width", "height", "original_name")


def search_by_vector(vector: np.ndarray, *, scope: SearchScope, model_key: str) -> list[SearchHit]:
    """Nearest visible images to a query vector, with the scope's filters, threshold and exclusions."""
    options = {"model_key": model_key, "limit": scope.top_k, "ef_search": settings.SEARCH_EF_SEARCH}
    if plain_scope(scope):  # the commonest search: a statement compiled once, no queryset built
        nearest = Image.objects.nearest_visible(
            vector, fields=HIT_FIELDS, category=scope.category, source=scope.source, **options
        )
    else:
        nearest = scope_images(scope).only(*HIT_FIELDS).nearest(vector, exact=scope.exact, after=scope.after, **options)
    hits = [to_hit(image, 1.0 - image.distance, distance=float(image.distance)) for image in nearest]
    # Trimming after the top-k query gives the same rows as filtering first: both keep the best scores.
    if scope.min_score is not None:
        hits = [hit for hit in hits if hit.score >= scope.min_score]
    return hits


def plain_scope(scope: SearchScope) -> bool:
    """Only a category and a source, if any: nothing that changes the statement's shape from search to search."""
    return (
        not scope.exclude_ids
        and scope.only_ids is None
        and not scope.exact
        and scope.after is None
        and scope.photo == PhotoFilters()
    )


def scope_images(scope: SearchScope) -> ImageQuerySet:
    """The visible images a search may return: its category, source, exclusions and id filters applied."""
    images = Image.objects.visible()
    if scope.category:
        images = images.filter(category=scope.category)
    if scope.source:
        images = images.filter(source=scope.source)
    if scope.exclude_ids:
        images = images.exclude(id__in=list(scope.exclude_ids))
    if scope.only_ids is not None:
        images = images.filter(id__in=list(scope.only_ids))
    return photo_filtered(images, scope.photo)


def photo_filtered(images: ImageQuerySet, photo: PhotoFilters) -> ImageQuerySet:
    """`images` narrowed by what the photos say about themselves (date, camera, place)."""
    if photo.taken_after or photo.taken_before:
        images = images.taken_between(photo.taken_after, photo.taken_before)
    if photo.camera:
        images = images.by_camera(photo.camera)
    if photo.has_location is not None:
        images = images.located(photo.has_location)
    if photo.bbox is not None:
        images = images.within(*photo.bbox)
    return images


def to_hit(image: Image, score: float, *, distance: float | None = None) -> SearchHit:
    return SearchHit(
        id=image.id,
        score=round(float(score), 6),
        thumbnail_url=image_url(image.id, "thumbnail"),
        url=image_url(image.id, "original"),
        caption=image.caption,
        category=image.category,
        width=image.width,
        height=image.height,
        original_name=image.original_name,
        distance=distance,
    )


def image_url(image_id: int, view: str) -> str:
    """The URL of an image's `view` ("thumbnail" or "original"): reverse() once per process, not once per hit."""
    return _image_url_pattern(view).replace("0", str(image_id), 1)


@functools.cache
def _image_url_pattern(view: str) -> str:
    pattern = reverse(f"search:{view}", args=[0])
    if pattern.count("0") != 1:  # the id is found by its digit: the rest of the URL must hold none
        raise ImproperlyConfigured(f"the URL of search:{view} ({pattern}) must not contain the digit 0")
    return pattern
