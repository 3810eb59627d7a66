"""What updating image rows costs at a collection's size: a captioner writing captions, a curator hiding images.

An update writes a new version of each row, and every index of the row's table gets an entry for it. The search
vectors' HNSW graph is not among them since migration 0011 (ImageVector): this measures what an update costs now,
and shows by each index's growth which indexes it writes to. Every update is rolled back; the collection is left as
it was (bar the dead row versions, which VACUUM clears).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from django.db import connection, transaction
from django.db.models import QuerySet

from search.lab.speed.synthetic import relation_size
from search.models import Image, ImageVector

# The updates timed, each as the product writes it: one statement over the chosen rows.
UPDATES: dict[str, Callable[[QuerySet], int]] = {
    "caption written (a captioner's or curator's)": lambda rows: rows.update(caption="a caption the benchmark wrote"),
    "hidden by a curator": lambda rows: rows.update(hidden=True),
}


@dataclass(frozen=True)
class UpdateCost:
    name: str
    rows: int
    ms_per_row: float  # the median of the rounds
    grown: dict[str, int]  # bytes each index of the two tables grew by, over all rounds (only those that grew)


class _Rollback(Exception):
    pass


def update_costs(model_key: str, *, rows: int = 2000, rounds: int = 3) -> list[UpdateCost]:
    """Each update of UPDATES over `rows` images of the collection, `rounds` times interleaved, rolled back."""
    ids = list(
        ImageVector.objects.filter(embedding_model=model_key).order_by("image_id").values_list("image_id", flat=True)
    )
    if not ids:
        raise ValueError(f"no collection {model_key}")
    chosen = ids[:: max(len(ids) // rows, 1)][:rows]  # spread over the table, as a real batch of edits would be
    indexes = _indexes()
    sizes = {name: relation_size(name) for name in indexes}
    samples: dict[str, list[float]] = {name: [] for name in UPDATES}
    growth: dict[str, dict[str, int]] = {name: {} for name in UPDATES}
    for _ in range(rounds):
        for name, update in UPDATES.items():
            samples[name].append(_timed(update, Image.objects.filter(id__in=chosen)) / len(chosen))
            for index in indexes:
                now = relation_size(index)
                if now > sizes[index]:
                    growth[name][index] = growth[name].get(index, 0) + now - sizes[index]
                sizes[index] = now
    return [
        UpdateCost(name, len(chosen), sorted(values)[len(values) // 2] * 1000, growth[name])
        for name, values in samples.items()
    ]


def _timed(update: Callable[[QuerySet], int], rows: QuerySet) -> float:
    started = time.perf_counter()
    try:
        with transaction.atomic():
            update(rows)
            elapsed = time.perf_counter() - started
            raise _Rollback
    except _Rollback:
        pass
    return elapsed


def _indexes() -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT indexname FROM pg_indexes WHERE tablename IN ('search_image', %s) ORDER BY indexname",
            [ImageVector._meta.db_table],
        )
        return [name for (name,) in cursor.fetchall()]
