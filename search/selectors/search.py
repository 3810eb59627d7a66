"""Search, the one module behind every interface (page, command, API, websocket): text, image or combined queries,
by vector or hybrid ranking, and image -> text over captions."""

from __future__ import annotations

import time

from django.conf import settings

from imagesearch.metrics import observe_search
from imagesearch.replicas import replica_reads
from search.encoder import ClipEncoder, get_encoder
from search.imagefiles import LoadedImage
from search.models import Image
from search.query import CaptionHit, SearchRequest, SearchResults, SearchScope, load_upload
from search.selectors.hybrid import search_hybrid
from search.selectors.vector import query_vector, search_by_vector


@replica_reads
def search_images(request: SearchRequest, *, encoder: ClipEncoder | None = None) -> SearchResults:
    """Encode the query, then find its nearest visible images (fused with full-text matches in hybrid mode)."""
    encoder = encoder or get_encoder()
    search = search_hybrid if request.mode == "hybrid" else _search_vector
    results = search(request, encoder=encoder)
    observe_search(results.timings_ms)
    return results


def _search_vector(request: SearchRequest, *, encoder: ClipEncoder) -> SearchResults:
    started = time.perf_counter()
    vector = query_vector(request, encoder)
    encoded = time.perf_counter()
    hits = search_by_vector(vector, scope=request.scope, model_key=encoder.model_key)
    finished = time.perf_counter()
    timings = {"encode": (encoded - started) * 1000, "search": (finished - encoded) * 1000}
    timings["total"] = timings["encode"] + timings["search"]
    return SearchResults(hits=hits, model_key=encoder.model_key, query_vector=vector, timings_ms=timings)


def search_by_text(text: str, **options) -> SearchResults:
    """Images that match a description."""
    return search_images(SearchRequest(text=text, **options))


def search_by_image(data: bytes, **options) -> SearchResults:
    """Images similar to an uploaded image (raw bytes, checked like any upload)."""
    return search_images(SearchRequest(image=load_upload(data), **options))


@replica_reads
def search_captions_by_image(
    loaded: LoadedImage, *, top_k: int = 10, encoder: ClipEncoder | None = None
) -> list[CaptionHit]:
    """Image -> text: the captions (generated or curated) whose CLIP text vectors are closest to the image's."""
    scope = SearchScope(top_k=top_k)
    encoder = encoder or get_encoder()
    vector = encoder.encode_images([loaded.image])[0]
    nearest = Image.objects.visible().nearest_captions(
        vector, model_key=encoder.model_key, limit=scope.top_k, ef_search=settings.SEARCH_EF_SEARCH
    )
    return [CaptionHit(image.id, image.caption, round(1.0 - float(image.distance), 6)) for image in nearest]


@replica_reads
def categories() -> list[str]:
    """Categories of visible images, for filter menus."""
    return list(
        Image.objects.visible().exclude(category="").order_by("category").values_list("category", flat=True).distinct()
    )
