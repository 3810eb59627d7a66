"""Vector search at scale: the ef_search curve (latency and recall@k against exact search) and filtered queries."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from django.db import connection, transaction

from search.lab.speed.stats import mean_recall, percentiles, time_ms
from search.lab.speed.synthetic import VectorSpace, exact_neighbours, row_number
from search.models import Image

PLAN_NAMES = (
    ("_hnsw_", "HNSW index"),
    ("Seq Scan", "sequential scan"),
    ("Bitmap Index Scan", "category index (bitmap) + exact sort"),
    ("Index Scan", "b-tree index + exact sort"),
)


@dataclass(frozen=True)
class CurvePoint:
    ef_search: int
    halfvec: bool
    recall: float
    latency_ms: dict[str, float]
    category: str = ""
    rows_returned: float = 0.0  # mean rows per query (a filtered HNSW scan may come back short)
    plan: str = ""  # how PostgreSQL answered: the HNSW index, another index, or a sequential scan


def search_rows(
    vector: np.ndarray, *, model_key: str, k: int, ef_search: int, halfvec: bool, category: str = ""
) -> tuple[float, list[int]]:
    """One vector search through ImageQuerySet.nearest; its wall time and the row numbers it returned."""
    images = Image.objects.visible()
    if category:
        images = images.filter(category=category)
    elapsed, found = time_ms(
        lambda: images.nearest(vector, model_key=model_key, limit=k, ef_search=ef_search, halfvec=halfvec)
    )
    return elapsed, [row_number(image) for image in found]


def ef_search_curve(
    space: VectorSpace,
    *,
    model_key: str,
    count: int,
    queries: np.ndarray,
    ef_values: Sequence[int],
    k: int = 10,
    halfvec: bool = False,
    category: str = "",
    warmup: int = 10,
) -> list[CurvePoint]:
    """Latency percentiles and recall@k against exact (full-precision) search, for each ef_search value."""
    exact = exact_neighbours(space, queries, count=count, k=k, category=category or None)
    for vector in queries[:warmup]:  # bring the index into the buffer cache before timing
        search_rows(vector, model_key=model_key, k=k, ef_search=max(ef_values), halfvec=halfvec, category=category)
    points = []
    for ef in ef_values:
        timings, found = [], []
        for vector in queries:
            elapsed, rows = search_rows(
                vector, model_key=model_key, k=k, ef_search=ef, halfvec=halfvec, category=category
            )
            timings.append(elapsed)
            found.append(rows)
        points.append(
            CurvePoint(
                ef_search=ef,
                halfvec=halfvec,
                recall=mean_recall(found, exact.tolist(), k),
                latency_ms=percentiles(timings),
                category=category,
                rows_returned=float(np.mean([len(rows) for rows in found])),
                plan=query_plan(queries[0], model_key=model_key, k=k, ef_search=ef, halfvec=halfvec, category=category),
            )
        )
    return points


def query_plan(vector: np.ndarray, *, model_key: str, k: int, ef_search: int, halfvec: bool, category: str = "") -> str:
    """The access path PostgreSQL chose for one of these searches (EXPLAIN of the very SQL nearest() ran)."""
    statements: list[tuple[str, tuple]] = []

    def record(execute, sql, params, many, context):
        statements.append((sql, params))
        return execute(sql, params, many, context)

    with connection.execute_wrapper(record):
        search_rows(vector, model_key=model_key, k=k, ef_search=ef_search, halfvec=halfvec, category=category)
    settings_sql = [(sql, params) for sql, params in statements if "set_config" in sql]
    select, select_params = next((sql, params) for sql, params in reversed(statements) if sql.startswith("SELECT"))
    with transaction.atomic(), connection.cursor() as cursor:
        for sql, params in settings_sql:
            cursor.execute(sql, params)
        cursor.execute(f"EXPLAIN {select}", select_params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    found = [name for marker, name in PLAN_NAMES if marker in plan]
    return found[0] if found else plan.splitlines()[0]
