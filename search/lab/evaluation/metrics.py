"""Retrieval metrics from ranks (1-based; None when the item was not among the results)."""

from __future__ import annotations

import statistics
from collections.abc import Sequence

RECALL_AT = (1, 5, 10)


def recall_at(ranks: Sequence[int | None], k: int) -> float:
    """Share of queries whose first relevant item is ranked k or better."""
    if not ranks:
        return 0.0
    return sum(1 for rank in ranks if rank is not None and rank <= k) / len(ranks)


def median_rank(ranks: Sequence[int | None], *, depth: int) -> float | None:
    """Median rank; None when it lies beyond the `depth` results looked at (the rank is then unknown)."""
    if not ranks:
        return None
    known = sorted(rank if rank is not None else depth + 1 for rank in ranks)
    median = statistics.median(known)
    return None if median > depth else float(median)


def first_rank(ranked_ids: Sequence[int], relevant: set[int] | frozenset[int]) -> int | None:
    """The 1-based position of the first relevant id in a ranking, None if none is there."""
    for position, item in enumerate(ranked_ids, 1):
        if item in relevant:
            return position
    return None


def summarise(ranks: Sequence[int | None], *, depth: int) -> dict[str, float | None]:
    summary: dict[str, float | None] = {f"R@{k}": round(recall_at(ranks, k), 4) for k in RECALL_AT}
    summary["median_rank"] = median_rank(ranks, depth=depth)
    summary["queries"] = len(ranks)
    return summary
