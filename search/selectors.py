"""Reads: the one search module behind every interface (page, command, API, websocket)."""

from __future__ import annotations

import functools
import time
from collections.abc import Collection
from dataclasses import dataclass, field

import numpy as np
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.urls import reverse

from search.encoder import ClipEncoder, get_encoder
from search.errors import InvalidQuery
from search.imagefiles import InvalidImage, LoadedImage, load_image
from search.models import Image

MAX_TOP_K = 100
MAX_TEXT_LENGTH = 1000


@dataclass(frozen=True)
class SearchRequest:
    text: str = ""
    image: LoadedImage | None = None
    image_weight: float | None = None  # share of the image in a combined query, 0..1; None: the setting
    top_k: int = 24
    min_score: float | None = None
    category: str = ""
    source: str = ""
    exclude_ids: Collection[int] = ()
    only_ids: Collection[int] | None = None  # search within these images only (evaluation, sub-collections)
    exact: bool = False
    mode: str = "vector"  # "vector" | "hybrid" (vector + full-text, fused: search.hybrid)


SEARCH_MODES = ("vector", "hybrid")


@dataclass(frozen=True)
class SearchHit:
    id: int
    score: float
    thumbnail_url: str
    url: str
    caption: str
    category: str
    width: int
    height: int
    original_name: str


@dataclass
class SearchResults:
    hits: list[SearchHit]
    model_key: str
    query_vector: np.ndarray
    timings_ms: dict[str, float] = field(default_factory=dict)


def search_images(request: SearchRequest, *, encoder: ClipEncoder | None = None) -> SearchResults:
    """Text, image or combined search: encode the query, then find its nearest visible images."""
    validate_request(request)
    encoder = encoder or get_encoder()
    if request.mode == "hybrid":
        from search.hybrid import search_hybrid

        return search_hybrid(request, encoder=encoder)
    started = time.perf_counter()
    vector = query_vector(request, encoder)
    encoded = time.perf_counter()
    hits = search_by_vector(vector, request=request, model_key=encoder.model_key)
    finished = time.perf_counter()
    timings = {"encode": (encoded - started) * 1000, "search": (finished - encoded) * 1000}
    timings["total"] = timings["encode"] + timings["search"]
    return SearchResults(hits=hits, model_key=encoder.model_key, query_vector=vector, timings_ms=timings)


def search_by_text(text: str, **options) -> SearchResults:
    """Images that match a description."""
    return search_images(SearchRequest(text=text, **options))


def search_by_image(data: bytes, **options) -> SearchResults:
    """Images similar to an uploaded image (raw bytes, checked like any upload)."""
    return search_images(SearchRequest(image=load_query_image(data), **options))


def load_query_image(data: bytes) -> LoadedImage:
    """Check an uploaded query image; InvalidQuery(field="image") says why it is refused."""
    try:
        return load_image(data, max_pixels=settings.IMAGE_MAX_PIXELS, max_bytes=settings.UPLOAD_MAX_BYTES)
    except InvalidImage as error:
        raise InvalidQuery(str(error), field="image") from None


def validate_request(request: SearchRequest) -> None:
    text = request.text.strip()
    if not text and request.image is None:
        raise InvalidQuery("Describe what you are looking for, give an example image, or both.")
    if len(text) > MAX_TEXT_LENGTH:
        raise InvalidQuery(f"The query is {len(text)} characters long; the limit is {MAX_TEXT_LENGTH}.")
    if not 1 <= request.top_k <= MAX_TOP_K:
        raise InvalidQuery(f"top_k must be between 1 and {MAX_TOP_K}.", field="top_k")
    if request.min_score is not None and not 0.0 <= request.min_score <= 1.0:
        raise InvalidQuery("min_score must be between 0 and 1.", field="min_score")
    if request.image_weight is not None and not 0.0 <= request.image_weight <= 1.0:
        raise InvalidQuery("image_weight must be between 0 and 1.", field="image_weight")
    if request.mode not in SEARCH_MODES:
        raise InvalidQuery(f"mode must be one of {', '.join(SEARCH_MODES)}.", field="mode")


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


def search_by_vector(vector: np.ndarray, *, request: SearchRequest, model_key: str) -> list[SearchHit]:
    """Nearest visible images to a query vector, with the request's filters, threshold and exclusions."""
    images = request_images(request)
    nearest = images.nearest(
        vector, model_key=model_key, limit=request.top_k, exact=request.exact, ef_search=settings.SEARCH_EF_SEARCH
    )
    hits = [to_hit(image, 1.0 - image.distance) for image in nearest]
    # Trimming after the top-k query gives the same rows as filtering first: both keep the best scores.
    if request.min_score is not None:
        hits = [hit for hit in hits if hit.score >= request.min_score]
    return hits


def request_images(request: SearchRequest):
    """The visible images a request may return: its category, source, exclusions and id filters applied."""
    images = Image.objects.visible()
    if request.category:
        images = images.filter(category=request.category)
    if request.source:
        images = images.filter(source=request.source)
    if request.exclude_ids:
        images = images.exclude(id__in=list(request.exclude_ids))
    if request.only_ids is not None:
        images = images.filter(id__in=list(request.only_ids))
    return images


def to_hit(image: Image, score: float) -> SearchHit:
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


@dataclass(frozen=True)
class CaptionHit:
    image_id: int
    caption: str
    score: float


def search_captions_by_image(
    loaded_image: LoadedImage, *, top_k: int = 10, encoder: ClipEncoder | None = None
) -> list[CaptionHit]:
    """Image → text: the captions (generated or curated) whose CLIP text vectors are closest to the image's."""
    if not 1 <= top_k <= MAX_TOP_K:
        raise InvalidQuery(f"top_k must be between 1 and {MAX_TOP_K}.", field="top_k")
    encoder = encoder or get_encoder()
    vector = encoder.encode_images([loaded_image.image])[0]
    nearest = Image.objects.visible().nearest_captions(
        vector, model_key=encoder.model_key, limit=top_k, ef_search=settings.SEARCH_EF_SEARCH
    )
    return [CaptionHit(image.id, image.caption, round(1.0 - float(image.distance), 6)) for image in nearest]


def categories() -> list[str]:
    """Categories of visible images, for filter menus."""
    return list(
        Image.objects.visible().exclude(category="").order_by("category").values_list("category", flat=True).distinct()
    )
