"""The query path's own cost: nearest() against the same SQL on one open connection, and a cache miss taken apart.

Both measurements run the first round's path ("before": a transaction with two set_config round trips, the vector
as text, every column but the vectors) and this round's ("after") in the same run, interleaved query by query, so
a busy shared machine slows both alike.
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from unittest import mock

import numpy as np
import psycopg
from django.db import connection, transaction
from django.db.models import Q
from django.db.models.functions import Cast
from pgvector import HalfVector
from pgvector.django import CosineDistance, HalfVectorField, VectorField
from rest_framework.renderers import JSONRenderer

from search import result_cache
from search.api.search import SearchApi
from search.encoder import ClipEncoder
from search.lab.speed.stats import percentiles
from search.lab.speed.synthetic import row_number
from search.models import Image, ImageQuerySet
from search.query import SearchScope
from search.selectors import search as search_selectors
from search.selectors import vector as vector_selectors
from search.vector_session import QueryVector, register_query_vector

# What a hit read before this round: every column but the two vectors (nearest() deferred only those).
FIRST_ROUND_FIELDS = tuple(field.name for field in Image._meta.concrete_fields if field.name != "caption_embedding")


def first_round_nearest_by(self, column, vector, *, limit, exact, ef_search, halfvec=False, after=None):
    """ImageQuerySet._nearest_by as the first speed round left it, kept to compare with in the same run."""
    values = np.asarray(vector, dtype=np.float32)
    if halfvec:
        distance = CosineDistance(Cast(column, HalfVectorField(dimensions=len(values))), HalfVector(values))
    else:
        distance = CosineDistance(Cast(column, VectorField(dimensions=len(values))), values)
    query = self.annotate(distance=distance)
    if after is not None:
        query = query.filter(Q(distance__gt=after[0]) | Q(distance=after[0], id__gt=after[1]))
    query = query.order_by("distance", "id")[:limit]
    with transaction.atomic():
        with connection.cursor() as cursor:
            if exact:
                cursor.execute("SELECT set_config('enable_indexscan', 'off', true)")
            else:
                cursor.execute("SELECT set_config('hnsw.ef_search', %s, true)", [str(max(ef_search, limit))])
                cursor.execute("SELECT set_config('hnsw.iterative_scan', 'strict_order', true)")
        return list(query)


_cached_text_encoder_init = result_cache.CachedTextEncoder.__init__


def _first_round_cached_text_encoder(self, encoder, *, read=None, writes=None):
    # The first round read and wrote the text vector on its own round trips, apart from the page's.
    _cached_text_encoder_init(self, encoder)


@contextmanager
def first_round() -> Iterator[None]:
    """The first round's query path in place of this round's."""
    with (
        mock.patch.object(ImageQuerySet, "_nearest_by", first_round_nearest_by),
        mock.patch.object(vector_selectors, "HIT_FIELDS", FIRST_ROUND_FIELDS),
        mock.patch.object(result_cache.CachedTextEncoder, "__init__", _first_round_cached_text_encoder),
        mock.patch.object(vector_selectors, "plain_scope", lambda scope: False),
    ):
        yield


PATHS = ("before", "after")


def _path(name: str):
    return first_round() if name == "before" else ExitStack()


def sql_comparison(model_key: str, queries: np.ndarray, *, k: int, ef_search: int) -> dict[str, dict[str, float]]:
    """Latency of the same top-k search as raw SQL on one open connection and through the product's layers."""
    images = Image.objects.visible().only(*vector_selectors.HIT_FIELDS)
    sql, params = _nearest_statement(images, model_key, queries[0], k=k, ef_search=ef_search)
    raw = _raw_cursor()

    def raw_sql(vector: np.ndarray) -> object:
        bound = [QueryVector(vector, param.kind) if isinstance(param, QueryVector) else param for param in params]
        return raw.execute(sql, bound).fetchall()

    def before(vector: np.ndarray) -> object:
        with first_round():
            return Image.objects.visible().nearest(vector, model_key=model_key, limit=k, ef_search=ef_search)

    variants: dict[str, Callable[[np.ndarray], object]] = {
        "raw SQL: the same SELECT, a psycopg cursor on the same open connection": raw_sql,
        "ImageQuerySet.nearest(), first round (before)": before,
        "ImageQuerySet.nearest(), this round (after)": lambda q: images.nearest(
            q, model_key=model_key, limit=k, ef_search=ef_search
        ),
        "Image.objects.nearest_visible() (its statement compiled once), after": lambda q: Image.objects.nearest_visible(
            q, model_key=model_key, limit=k, ef_search=ef_search, fields=vector_selectors.HIT_FIELDS
        ),
        "search_by_vector (nearest_visible + hits), after": lambda q: vector_selectors.search_by_vector(
            q, scope=SearchScope(top_k=k), model_key=model_key
        ),
    }
    try:
        return _interleaved(variants, queries)
    finally:
        raw.close()


def _nearest_statement(images: ImageQuerySet, model_key: str, vector: np.ndarray, *, k: int, ef_search: int):
    """The SELECT nearest() sends and its parameters."""
    statements = []

    def record(execute, sql, params, many, context):
        statements.append((sql, params))
        return execute(sql, params, many, context)

    with connection.execute_wrapper(record):
        images.nearest(vector, model_key=model_key, limit=k, ef_search=ef_search)
    return next((sql, params) for sql, params in statements if '"distance"' in sql)


def _raw_cursor() -> psycopg.Cursor:
    """A plain psycopg cursor on the open connection the ORM uses. It sets nothing: the product's search that
    _nearest_statement ran left the connection with the HNSW settings its statement needs, and settings changed
    behind vector_session's back would stay in place for the searches measured after it."""
    connection.ensure_connection()
    raw = connection.connection
    register_query_vector(raw)
    return psycopg.Cursor(raw)


def _interleaved(variants: dict[str, Callable[[np.ndarray], object]], queries: np.ndarray) -> dict[str, dict]:
    for vector in queries[:10]:  # warm the index pages and every code path
        for call in variants.values():
            call(vector)
    samples: dict[str, list[float]] = defaultdict(list)
    names = list(variants)
    for index, vector in enumerate(queries):
        turn = index % len(names)  # each variant goes first as often as the others
        for name in names[turn:] + names[:turn]:
            started = time.perf_counter()
            variants[name](vector)
            samples[name].append((time.perf_counter() - started) * 1000)
    samples = {name: samples[name] for name in names}
    return {name: percentiles(values) for name, values in samples.items()}


ENCODE = "encode (text tower)"
CACHE = "cache (Redis: vector and result pages)"
SEARCH_SQL = "SQL: the vector search statement(s)"
ROWS = "ORM, rows -> hits (Python; before: + COMMIT)"
AUTH_SQL = "SQL: session and user (sign-in)"
SERIALISE = "serialisation (output serializer + JSON)"
FRAMEWORK = "framework (middleware, DRF, auth, throttles, test client)"
STAGES = (ENCODE, CACHE, SEARCH_SQL, ROWS, AUTH_SQL, SERIALISE, FRAMEWORK)


class _Breakdown:
    """Time spent per stage during one call, by wrapping the functions each stage runs."""

    def __init__(self, encoder: ClipEncoder) -> None:
        self.encoder = encoder
        self.spent: dict[str, float] = defaultdict(float)
        self.in_search = False

    def _timed(self, stage: str, function: Callable) -> Callable:
        def run(*args, **kwargs):
            started = time.perf_counter()
            try:
                return function(*args, **kwargs)
            finally:
                self.spent[stage] += (time.perf_counter() - started) * 1000

        return run

    def _search(self, function: Callable) -> Callable:
        def run(*args, **kwargs):
            self.in_search = True
            started = time.perf_counter()
            try:
                return function(*args, **kwargs)
            finally:
                self.in_search = False
                self.spent["search_by_vector"] += (time.perf_counter() - started) * 1000

        return run

    def _sql(self, execute, sql, params, many, context):
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            stage = SEARCH_SQL if self.in_search else AUTH_SQL
            self.spent[stage] += (time.perf_counter() - started) * 1000

    @contextmanager
    def watching(self) -> Iterator[None]:
        serialiser = SearchApi.OutputSerializer
        with ExitStack() as stack:
            stack.enter_context(connection.execute_wrapper(self._sql))
            patches = [
                (self.encoder, "encode_text", ENCODE),
                (result_cache, "cache_get", CACHE),
                (result_cache, "cache_get_many", CACHE),
                (result_cache, "cache_set", CACHE),
                (result_cache, "cache_set_each", CACHE),
                (serialiser, "to_representation", SERIALISE),
                (JSONRenderer, "render", SERIALISE),
            ]
            for target, name, stage in patches:
                stack.enter_context(mock.patch.object(target, name, self._timed(stage, getattr(target, name))))
            search = self._search(search_selectors.search_by_vector)
            stack.enter_context(mock.patch.object(search_selectors, "search_by_vector", search))
            yield

    def stages(self, total_ms: float) -> dict[str, float]:
        spent = dict(self.spent)
        searched = spent.pop("search_by_vector", 0.0)
        spent[ROWS] = searched - spent.get(SEARCH_SQL, 0.0)
        spent[FRAMEWORK] = total_ms - sum(spent.values())
        return {stage: spent.get(stage, 0.0) for stage in STAGES}


def miss_breakdown(
    call: Callable[[str], None], encoder: ClipEncoder, texts: Sequence[str]
) -> dict[str, dict[str, dict[str, float]]]:
    """p50 and mean per stage of cache-miss API calls, before and after, interleaved text by text."""
    samples: dict[str, dict[str, list[float]]] = {path: defaultdict(list) for path in PATHS}
    for index, text in enumerate(texts):
        for path in PATHS:
            breakdown = _Breakdown(encoder)
            with _path(path), breakdown.watching():
                started = time.perf_counter()
                call(f"{text} {path}")
                total = (time.perf_counter() - started) * 1000
            if index < 5:
                continue  # warm-up: the first calls of each path load code and fill connection caches
            for stage, spent in breakdown.stages(total).items():
                samples[path][stage].append(spent)
            samples[path]["total"].append(total)
    return {
        path: {stage: {"p50": float(np.median(v)), "mean": float(np.mean(v))} for stage, v in stages.items()}
        for path, stages in samples.items()
    }


@dataclass
class ProductSearch:
    rows: list[list[int]]  # row numbers each query found (for recall)
    latency_ms: dict[str, dict[str, float]]


def product_search(model_key: str, queries: np.ndarray, *, k: int, ef_search: int) -> ProductSearch:
    """The product's vector search (nearest() and search_by_vector, interleaved), with what it found."""
    images = Image.objects.visible().only(*vector_selectors.HIT_FIELDS)
    found: list[list[int]] = []
    variants: dict[str, Callable[[np.ndarray], object]] = {
        "ImageQuerySet.nearest()": lambda q: images.nearest(q, model_key=model_key, limit=k, ef_search=ef_search),
        "search_by_vector (nearest + hits)": lambda q: vector_selectors.search_by_vector(
            q, scope=SearchScope(top_k=k), model_key=model_key
        ),
    }
    for vector in queries:
        found.append([row_number(image) for image in variants["ImageQuerySet.nearest()"](vector)])
    return ProductSearch(found, _interleaved(variants, queries))
