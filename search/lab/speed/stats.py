"""Small measuring helpers: percentiles of latencies and recall against exact search."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence

import numpy as np


def percentiles(samples_ms: Sequence[float]) -> dict[str, float]:
    """p50/p95/p99 and mean of latencies in milliseconds (linear interpolation, like numpy)."""
    if not samples_ms:
        raise ValueError("no samples")
    values = np.asarray(samples_ms, dtype=np.float64)
    p50, p95, p99 = np.percentile(values, [50, 95, 99])
    return {"p50": float(p50), "p95": float(p95), "p99": float(p99), "mean": float(values.mean()), "n": len(values)}


def recall_at_k(approximate: Sequence[int], exact: Sequence[int], k: int) -> float:
    """Share of the exact top-k ids that the approximate top-k found (order inside the top-k does not matter)."""
    truth = list(exact)[:k]
    if not truth:
        raise ValueError("the exact result is empty")
    return len(set(list(approximate)[:k]) & set(truth)) / len(truth)


def mean_recall(approximate: Sequence[Sequence[int]], exact: Sequence[Sequence[int]], k: int) -> float:
    """Recall@k averaged over queries (a query whose exact top-k is short counts against what exists)."""
    pairs = list(zip(approximate, exact, strict=True))
    return sum(recall_at_k(a, e, k) for a, e in pairs) / len(pairs)


def time_ms(call: Callable[[], object]) -> tuple[float, object]:
    """Wall time of one call in milliseconds, and its result."""
    started = time.perf_counter()
    result = call()
    return (time.perf_counter() - started) * 1000, result
