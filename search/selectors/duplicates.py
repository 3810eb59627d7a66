"""Near-duplicate groups: images whose vectors are closer than a threshold, found through the HNSW index.

Each visible image asks the index for its few nearest neighbours (ImageQuerySet.nearest), so the cost grows with
n * log(n) rather than with the n^2 pairs; pairs above the threshold are joined into groups with union-find, so a
group holds every image connected to another by a chain of close pairs.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass, field

from django.conf import settings

from search.models import Image
from search.vector_index import ensure_hnsw_index

PAGE_SIZE = 1000


@dataclass
class DuplicateGroup:
    images: list[Image]  # the suggested keeper first: most pixels, then the oldest
    similarity: float  # the highest similarity between two of its images
    model_key: str

    @property
    def ids(self) -> list[int]:
        return [image.id for image in self.images]


@dataclass
class DuplicateReport:
    groups: list[DuplicateGroup] = field(default_factory=list)
    checked: int = 0
    seconds: float = 0.0


def find_duplicates(
    *, threshold: float | None = None, model_key: str | None = None, neighbours: int | None = None
) -> DuplicateReport:
    """Groups of visible images whose cosine similarity is at least `threshold`, for each model's vectors."""
    threshold = settings.DUPLICATE_THRESHOLD if threshold is None else threshold
    neighbours = neighbours or settings.DUPLICATE_NEIGHBOURS
    started = time.perf_counter()
    report = DuplicateReport()
    for key in [model_key] if model_key else _model_keys():
        groups, checked = _groups_for_model(key, threshold, neighbours, settings.DUPLICATE_EF_SEARCH)
        report.groups.extend(groups)
        report.checked += checked
    report.groups.sort(key=lambda group: (-len(group.images), -group.similarity, group.images[0].id))
    report.seconds = time.perf_counter() - started
    return report


def _model_keys() -> list[str]:
    keys = Image.objects.visible().filter(vector__isnull=False).values_list("vector__embedding_model", flat=True)
    return list(keys.order_by("vector__embedding_model").distinct())


def _groups_for_model(
    model_key: str, threshold: float, neighbours: int, ef_search: int
) -> tuple[list[DuplicateGroup], int]:
    links = _UnionFind()
    best: dict[tuple[int, int], float] = {}  # (id, id) -> similarity of each close pair
    checked = 0
    for image_id, vector in _vectors(model_key):
        checked += 1
        if checked == 1:
            # Ingest and reindex create the index; this covers rows written another way (a no-op when it exists).
            ensure_hnsw_index(model_key, len(vector))
        close = (
            Image.objects.visible()
            .only("id")
            .nearest(vector, model_key=model_key, limit=neighbours + 1, ef_search=ef_search)
        )
        for other in close:
            similarity = 1.0 - other.distance
            if similarity < threshold:
                break  # nearest() returns the closest first
            if other.id != image_id:
                links.union(image_id, other.id)
                best[(image_id, other.id)] = similarity
    return _build_groups(links, best, model_key), checked


def _vectors(model_key: str) -> Iterator[tuple[int, list[float]]]:
    """(id, vector) of every visible image embedded with `model_key`, a page at a time to bound memory."""
    last_id = 0
    rows = Image.objects.visible().embedded_with(model_key).order_by("id")
    while page := list(rows.filter(id__gt=last_id).values_list("id", "vector__embedding")[:PAGE_SIZE]):
        yield from page
        last_id = page[-1][0]


def _build_groups(links: _UnionFind, pairs: dict[tuple[int, int], float], model_key: str) -> list[DuplicateGroup]:
    members = links.components()
    best: dict[int, float] = {}
    for (a, _), similarity in pairs.items():
        root = links.find(a)
        best[root] = max(best.get(root, 0.0), similarity)
    images = Image.objects.in_bulk([image_id for ids in members.values() for image_id in ids])
    groups = []
    for root, ids in members.items():
        group_images = sorted((images[i] for i in ids if i in images), key=_keeper_order)
        if len(group_images) > 1:
            groups.append(DuplicateGroup(images=group_images, similarity=best.get(root, 0.0), model_key=model_key))
    return groups


def _keeper_order(image: Image) -> tuple[int, int]:
    return (-image.width * image.height, image.id)


class _UnionFind:
    def __init__(self) -> None:
        self.parent: dict[int, int] = {}

    def find(self, item: int) -> int:
        self.parent.setdefault(item, item)
        while self.parent[item] != item:
            self.parent[item] = self.parent[self.parent[item]]
            item = self.parent[item]
        return item

    def union(self, a: int, b: int) -> None:
        self.parent[self.find(b)] = self.find(a)

    def components(self) -> dict[int, list[int]]:
        groups: dict[int, list[int]] = {}
        for item in self.parent:
            groups.setdefault(self.find(item), []).append(item)
        return groups
