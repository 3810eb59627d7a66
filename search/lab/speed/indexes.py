"""Which HNSW index: vector, halfvec and binary quantization (bit + re-rank) on the same rows and queries.

Every variant runs through ImageQuerySet.nearest, the product's path, interleaved query by query.
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from django.db import connection

from search.lab.speed.stats import mean_recall, percentiles
from search.lab.speed.synthetic import relation_size, row_number
from search.lab.speed.vectors import PLAN_NAMES
from search.models import Image
from search.selectors.vector import HIT_FIELDS
from search.vector_index import BIT, INDEX_KINDS, hnsw_index_name
from search.vector_session import search_cursor


@dataclass(frozen=True)
class IndexVariant:
    kind: str
    candidates: int | None = None  # bit: rows re-ranked by the full vectors

    @property
    def name(self) -> str:
        return f"bit, re-rank {self.candidates}" if self.kind == BIT else self.kind


@dataclass(frozen=True)
class IndexPoint:
    variant: IndexVariant
    recall: float
    latency_ms: dict[str, float]
    index_bytes: int
    plan: str


def index_variants(model_key: str, bit_candidates: Sequence[int]) -> list[IndexVariant]:
    """A variant per index kind the collection has (bit: one per re-rank depth)."""
    variants = []
    for kind in INDEX_KINDS:
        if not relation_size(hnsw_index_name(model_key, kind=kind)):
            continue
        if kind == BIT:
            variants.extend(IndexVariant(kind, candidates) for candidates in bit_candidates)
        else:
            variants.append(IndexVariant(kind))
    return variants


def compare_indexes(
    model_key: str,
    variants: Sequence[IndexVariant],
    queries: np.ndarray,
    exact: np.ndarray,
    *,
    k: int,
    ef_search: int,
    warmup: int = 10,
) -> list[IndexPoint]:
    images = Image.objects.visible().only(*HIT_FIELDS)

    def search(variant: IndexVariant, vector: np.ndarray) -> list[Image]:
        return images.nearest(
            vector, model_key=model_key, limit=k, ef_search=ef_search, index=variant.kind, candidates=variant.candidates
        )

    for vector in queries[:warmup]:
        for variant in variants:
            search(variant, vector)
    timings: dict[IndexVariant, list[float]] = defaultdict(list)
    found: dict[IndexVariant, list[list[int]]] = defaultdict(list)
    for index, vector in enumerate(queries):
        turn = index % len(variants)
        for variant in [*variants[turn:], *variants[:turn]]:
            started = time.perf_counter()
            rows = search(variant, vector)
            timings[variant].append((time.perf_counter() - started) * 1000)
            found[variant].append([row_number(image) for image in rows])
    return [
        IndexPoint(
            variant,
            mean_recall(found[variant], exact.tolist(), k),
            percentiles(timings[variant]),
            relation_size(hnsw_index_name(model_key, kind=variant.kind)),
            _plan(lambda variant=variant: search(variant, queries[0])),
        )
        for variant in variants
    ]


def _plan(run) -> str:
    """Which index the planner used for one search (EXPLAIN of the statement nearest() sent)."""
    statements = []

    def record(execute, sql, params, many, context):
        statements.append((sql, params))
        return execute(sql, params, many, context)

    with connection.execute_wrapper(record):
        run()
    sql, params = next((sql, params) for sql, params in statements if '"distance"' in sql)
    with search_cursor(connection) as cursor:
        cursor.execute(f"EXPLAIN {sql}", params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    indexes = [line.split(" using ")[1].split()[0] for line in plan.splitlines() if " using " in line.lower()]
    hnsw = [name for name in indexes if "_hnsw_" in name]
    if hnsw:
        return ", ".join(hnsw)
    found = [name for marker, name in PLAN_NAMES if marker in plan]
    return found[0] if found else plan.splitlines()[0]
