"""Caches in front of search for repeated text queries: the text vector (model + normalised text) and short-lived
result pages, guarded by a version number of the searchable collection. All fail open: if the cache backend raises,
search answers as if nothing were cached.

A result page is served only while the collection version it was cached under is current: every write that changes
what a search may show (hide, delete, a new category or caption) bumps the version once its transaction commits, so
a page cached before a curator's edit is never answered after it, in any process.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
import unicodedata
from collections.abc import Sequence
from dataclasses import asdict, dataclass

import numpy as np
from django.conf import settings
from django.core.cache import cache
from django.db import transaction

from imagesearch.metrics import result_cache_lookup
from search.encoder import ClipEncoder, get_encoder
from search.query import SearchHit, SearchRequest, SearchResults
from search.selectors.search import search_images

logger = logging.getLogger(__name__)

VERSION = 1
COLLECTION_VERSION_KEY = "search:collection-version"


@dataclass
class CachedSearch:
    results: SearchResults
    cached: bool  # the result page came from the cache (no encoding, no vector search)


def normalise_text(text: str) -> str:
    """The text as the model sees it: Unicode NFC, whitespace collapsed, ends stripped."""
    return " ".join(unicodedata.normalize("NFC", text).split())


class CachedTextEncoder:
    """The encoder, with single-text encodings (a query) kept in the cache by model + normalised text."""

    def __init__(self, encoder: ClipEncoder, *, read: dict | None = None, writes: dict | None = None) -> None:
        """read: vector keys already read with the result page (a key missing there is read here); writes: where
        to leave new vectors for the caller to write with its page (None: written at once)."""
        self._encoder = encoder
        self.model_key = encoder.model_key
        self._text_key = encoder.text_key
        self._read = read or {}
        self._writes = writes

    def encode_text(self, texts: Sequence[str]) -> np.ndarray:
        if len(texts) != 1 or settings.API_TEXT_VECTOR_CACHE_SECONDS == 0:
            return self._encoder.encode_text(texts)
        key = vector_key(self._text_key, texts[0])
        raw = self._read[key] if key in self._read else cache_get(key)
        if isinstance(raw, bytes) and len(raw) % 4 == 0:
            return np.frombuffer(raw, dtype=np.float32).reshape(1, -1).copy()
        vectors = self._encoder.encode_text(texts)
        entry = (vectors[0].astype(np.float32).tobytes(), settings.API_TEXT_VECTOR_CACHE_SECONDS)
        if self._writes is not None:
            self._writes[key] = entry
        else:
            cache_set(key, *entry)
        return vectors

    def __getattr__(self, name: str):
        return getattr(self._encoder, name)


def search_cached(request: SearchRequest, *, encoder: ClipEncoder | None = None) -> CachedSearch:
    """search_images, with text-only queries answered from the result cache when the same page was asked lately."""
    encoder = encoder or get_encoder()
    key = _result_key(request, encoder.text_key)
    version, read, writes = None, {}, None
    if key is not None:
        started = time.perf_counter()
        # The query's text vector is read in the same round trip as its page, and written with it (a miss: two
        # round trips to Redis, not four).
        text_vector_key = vector_key(encoder.text_key, request.text) if request.text.strip() else None
        page, version, read = _read_page(key, text_vector_key)
        writes = {}
        hit = page is not None and page.get("model_key") == encoder.model_key
        result_cache_lookup(hit)
        if hit:
            elapsed = (time.perf_counter() - started) * 1000
            hits = [SearchHit(**hit) for hit in page["hits"]]
            timings = {"encode": 0.0, "search": elapsed, "total": elapsed}
            vector = np.frombuffer(page["vector"], dtype=np.float32)
            return CachedSearch(SearchResults(hits, encoder.model_key, vector, timings), cached=True)
    results = search_images(request, encoder=CachedTextEncoder(encoder, read=read, writes=writes))
    if key is not None and version is not None:
        page = {"model_key": results.model_key, "hits": [asdict(hit) for hit in results.hits]}
        page["vector"] = results.query_vector.astype(np.float32).tobytes()
        # The version read before searching: if the collection changed meanwhile, the page is born stale.
        page["collection_version"] = version
        cache_set_each({**(writes or {}), key: (page, settings.API_RESULT_CACHE_SECONDS)})
    return CachedSearch(results, cached=False)


def _read_page(key: str, text_vector_key: str | None) -> tuple[dict | None, int | None, dict]:
    """The cached page if it is of the current collection version, that version (None: cache unreadable), and the
    text vector's entry ({key: None} when it is not cached, {} when it was not read)."""
    keys = [key, COLLECTION_VERSION_KEY] + ([text_vector_key] if text_vector_key else [])
    found = cache_get_many(keys)  # one round trip on the hot path
    if found is None:
        return None, None, {}
    read = {text_vector_key: found.get(text_vector_key)} if text_vector_key else {}
    version = found.get(COLLECTION_VERSION_KEY)
    if version is None:
        version = collection_version_start()
    page = found.get(key)
    if isinstance(page, dict) and version is not None and page.get("collection_version") == version:
        return page, version, read
    return None, version, read


def _result_key(request: SearchRequest, model_key: str) -> str | None:
    cacheable = (
        request.image is None
        and not request.exact
        and not request.exclude_ids
        and request.only_ids is None
        and settings.API_RESULT_CACHE_SECONDS > 0
    )
    if not cacheable:
        return None
    parts = [normalise_text(request.text), request.top_k, request.min_score, request.category, request.source]
    if request.mode != "vector":  # keys of vector pages stay as they were, so no cached page is lost
        parts.append(request.mode)
    if request.photo:
        parts.append(request.photo.key())
    if request.after is not None:
        parts.append(list(request.after))
    return _key("results", model_key, json.dumps(parts))


def vector_key(text_key: str, text: str) -> str:
    """The cache key of a query text's vector: the encoder's text key and the normalised text."""
    return _key("vector", text_key, normalise_text(text))


def _key(kind: str, model_key: str, text: str) -> str:
    digest = hashlib.sha256(f"{model_key}\0{text}".encode()).hexdigest()
    return f"search:{kind}:v{VERSION}:{digest}"


def cache_get(key: str):
    try:
        return cache.get(key)
    except Exception as error:
        logger.warning("Cache read failed, searching without it: %s", error)
        return None


def cache_get_many(keys: list[str]) -> dict | None:
    """The keys found; None if the cache cannot be read (unlike {}, which says none were there)."""
    try:
        return cache.get_many(keys)
    except Exception as error:
        logger.warning("Cache read failed, searching without it: %s", error)
        return None


def cache_set(key: str, value, timeout: int) -> None:
    try:
        cache.set(key, value, timeout)
    except Exception as error:
        logger.warning("Cache write failed: %s", error)


def cache_set_each(entries: dict[str, tuple[object, int]]) -> None:
    """Several entries, each with its own timeout, in one round trip where the backend can (imagesearch.cache)."""
    if not entries:
        return
    try:
        set_each = getattr(cache, "set_each", None)
        if set_each is not None:
            set_each(entries)
            return
        for key, (value, timeout) in entries.items():
            cache.set(key, value, timeout)
    except Exception as error:
        logger.warning("Cache write failed: %s", error)


# --- The collection version ---------------------------------------------------------------------------------------


def collection_changed() -> None:
    """Bump the collection version when the current transaction commits (at once outside a transaction)."""
    # After the commit, not before: a search between the bump and the commit would cache the old rows as new.
    transaction.on_commit(_bump)


def collection_version_start() -> int | None:
    """The version when the cache holds none (first use, flushed, evicted); None if the cache cannot be reached."""
    try:
        # From the clock rather than 0, so a version lost from the cache never returns to a number that pages
        # cached before the loss still carry.
        cache.add(COLLECTION_VERSION_KEY, time.time_ns(), timeout=None)
        return cache.get(COLLECTION_VERSION_KEY)
    except Exception as error:
        logger.warning("Collection version unavailable, result pages not cached: %s", error)
        return None


def _bump() -> None:
    try:
        cache.incr(COLLECTION_VERSION_KEY)
    except ValueError:  # no version yet: whatever starts one is newer than every cached page
        collection_version_start()
    except Exception as error:
        logger.warning("Collection version not bumped, cache unavailable: %s", error)
