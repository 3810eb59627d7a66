"""The distance to the limit: an in-process HNSW (faiss) on the same vectors and queries as the product's search.

Reference only: PostgreSQL stays the store and the index. faiss-cpu is a lab requirement (requirements-lab.txt),
never the app's; the benchmark says so when it is missing.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from search.lab.speed.stats import mean_recall, percentiles
from search.lab.speed.synthetic import GENERATION_CHUNK, VectorSpace


@dataclass(frozen=True)
class ReferencePoint:
    ef_search: int
    recall: float
    latency_ms: dict[str, float]


@dataclass(frozen=True)
class Reference:
    build_seconds: float
    points: list[ReferencePoint]
    m: int
    ef_construction: int

    def at_recall(self, recall: float) -> ReferencePoint:
        """The cheapest point with at least `recall` (the best one there is when none reaches it)."""
        reaching = [point for point in self.points if point.recall >= recall]
        if reaching:
            return min(reaching, key=lambda point: point.ef_search)
        return max(self.points, key=lambda point: point.recall)

    def p50_at_recall(self, recall: float) -> float | None:
        """p50 latency at exactly `recall`, linear between the two curve points around it (None: out of range)."""
        points = sorted(self.points, key=lambda point: point.recall)
        for low, high in itertools.pairwise(points):
            if low.recall <= recall <= high.recall and high.recall > low.recall:
                share = (recall - low.recall) / (high.recall - low.recall)
                return low.latency_ms["p50"] + share * (high.latency_ms["p50"] - low.latency_ms["p50"])
        return None


def faiss_available() -> bool:
    try:
        import faiss  # noqa: F401
    except ImportError:
        return False
    return True


def faiss_hnsw(
    space: VectorSpace,
    *,
    count: int,
    queries: np.ndarray,
    exact: np.ndarray,
    k: int,
    ef_values: Sequence[int],
    m: int = 16,
    ef_construction: int = 64,
    build_threads: int = 2,
) -> Reference:
    """faiss IndexHNSWFlat (pgvector's defaults: M 16, ef_construction 64), inner product on the unit vectors.

    Built on `build_threads`; each query searched alone on one thread, as one request is served.
    """
    import faiss

    faiss.omp_set_num_threads(build_threads)
    index = faiss.IndexHNSWFlat(space.dim, m, faiss.METRIC_INNER_PRODUCT)
    index.hnsw.efConstruction = ef_construction
    started = time.perf_counter()
    for start in range(0, count, GENERATION_CHUNK):
        index.add(np.ascontiguousarray(space.rows(start, min(start + GENERATION_CHUNK, count))))
    build_seconds = time.perf_counter() - started
    faiss.omp_set_num_threads(1)
    points = []
    for ef in ef_values:
        index.hnsw.efSearch = max(ef, k)
        timings, found = [], []
        for query in queries:
            started = time.perf_counter()
            _, rows = index.search(query[None, :], k)
            timings.append((time.perf_counter() - started) * 1000)
            found.append(rows[0].tolist())
        points.append(ReferencePoint(ef, mean_recall(found, exact.tolist(), k), percentiles(timings)))
    return Reference(build_seconds, points, m, ef_construction)
