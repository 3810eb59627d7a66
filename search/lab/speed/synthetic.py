"""Synthetic collections: clustered unit vectors with known-selectivity categories, bulk-loaded with COPY.

Rows live under their own model key (`simulated:...`), so the partial HNSW index and every search of a real model
never see them. Load them into a separate database (see docs/benchmarks.md), not the app's own.
"""

from __future__ import annotations

import hashlib
import struct
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime

import numpy as np
from django.db import connection, transaction
from django.db.models import Count

from search.models import Image, ImageVector
from search.vector_index import (
    INDEX_KINDS,
    VECTOR_TABLE,
    ensure_hnsw_index,
    ensure_vectors_fit_in_rows,
    hnsw_index_name,
    index_kind,
)

SIMULATED_PREFIX = "simulated:"
# Filter selectivities the benchmark measures: exactly 1% and 10% of the rows, by row number.
CATEGORY_1PCT = "sim-1pct"
CATEGORY_10PCT = "sim-10pct"
CATEGORY_REST = "sim-rest"
SELECTIVITY = {CATEGORY_1PCT: 0.01, CATEGORY_10PCT: 0.10}
GENERATION_CHUNK = 10_000

_COLUMNS = (
    ("id", "int8"),  # taken from the table's sequence, so the vector rows can name their image
    ("sha256", "text"),
    ("original_name", "text"),
    ("file", "text"),
    ("thumbnail", "text"),
    ("width", "int4"),
    ("height", "int4"),
    ("format", "text"),
    ("byte_size", "int8"),
    ("source", "text"),
    ("source_url", "text"),
    ("category", "text"),
    ("caption", "text"),
    ("caption_curated", "bool"),
    ("caption_model", "text"),
    ("caption_embedding_model", "text"),
    ("hidden", "bool"),
    ("missing", "bool"),
    ("taken_offset", "text"),
    ("camera_make", "text"),
    ("camera_model", "text"),
    ("lens", "text"),
    ("created_at", "timestamptz"),
    ("updated_at", "timestamptz"),
)
_VECTOR_COLUMNS = (
    ("image_id", "int8"),
    ("embedding_model", "text"),
    # Sent as pgvector's binary wire format (halfvec_recv), which binary COPY hands straight to the column.
    ("embedding", "bytea"),
)


@dataclass(frozen=True)
class VectorSpace:
    """A mixture of `clusters` Gaussian blobs on the unit sphere; the same seed gives the same space.

    With latent_dim > 0 a point's offset from its centre lies mostly in a shared latent_dim-dimensional subspace
    (plus 10% isotropic noise), like real embeddings, whose intrinsic dimension is far below 512. latent_dim=0 makes
    isotropic blobs: every neighbour nearly equidistant, the worst case for any approximate index.
    """

    dim: int = 512
    clusters: int = 100
    spread: float = 1.0  # norm of a point's offset from its cluster centre (centres have norm 1)
    seed: int = 0
    latent_dim: int = 16

    def centres(self) -> tuple[np.ndarray, np.ndarray]:
        rng = np.random.default_rng([self.seed, 0])
        centres = rng.standard_normal((self.clusters, self.dim)).astype(np.float32)
        centres /= np.linalg.norm(centres, axis=1, keepdims=True)
        weights = rng.gamma(1.0, size=self.clusters)  # uneven cluster sizes, like real collections
        return centres, weights / weights.sum()

    def sample(self, count: int, *, stream: int) -> np.ndarray:
        """`count` unit vectors from stream `stream` (rows use their batch start, queries a negative stream)."""
        centres, weights = self.centres()
        rng = np.random.default_rng([self.seed, 1, stream + 2**40])
        which = rng.choice(self.clusters, size=count, p=weights)
        if self.latent_dim:
            latent = rng.standard_normal((count, self.latent_dim)).astype(np.float32) @ self._basis()
            offsets = latent * (self.spread / np.sqrt(self.latent_dim))
            noise = rng.standard_normal((count, self.dim)).astype(np.float32) * (0.1 * self.spread / np.sqrt(self.dim))
            points = centres[which] + offsets + noise
        else:
            noise = rng.standard_normal((count, self.dim)).astype(np.float32) * (self.spread / np.sqrt(self.dim))
            points = centres[which] + noise
        return points / np.linalg.norm(points, axis=1, keepdims=True)

    def _basis(self) -> np.ndarray:
        rng = np.random.default_rng([self.seed, 2])
        basis, _ = np.linalg.qr(rng.standard_normal((self.dim, self.latent_dim)))
        return basis.T.astype(np.float32)

    def queries(self, count: int) -> np.ndarray:
        return self.sample(count, stream=-1)

    def rows(self, start: int, stop: int) -> np.ndarray:
        """Vectors of rows [start, stop): generated in fixed chunks, so any batching gives the same rows."""
        first, last = start // GENERATION_CHUNK, (stop - 1) // GENERATION_CHUNK
        chunks = [self.sample(GENERATION_CHUNK, stream=chunk) for chunk in range(first, last + 1)]
        offset = first * GENERATION_CHUNK
        return np.concatenate(chunks)[start - offset : stop - offset]


def simulated_model_key(space: VectorSpace, count: int) -> str:
    shape = f"-l{space.latent_dim}" if space.latent_dim else ""
    spread = f"-r{space.spread:g}" if space.spread != 1.0 else ""
    return f"{SIMULATED_PREFIX}n{count}-d{space.dim}-k{space.clusters}{shape}{spread}-s{space.seed}"


def category_of(row: int) -> str:
    if row % 100 == 0:
        return CATEGORY_1PCT
    if row % 10 == 1:
        return CATEGORY_10PCT
    return CATEGORY_REST


def simulate_images(
    space: VectorSpace,
    *,
    count: int,
    model_key: str,
    batch_size: int = 10_000,
    on_batch: Callable[[int], None] | None = None,
) -> int:
    """Top the collection `model_key` up to `count` rows with COPY; returns how many rows were inserted."""
    if not model_key.startswith(SIMULATED_PREFIX):
        raise ValueError(f"simulated rows need a model key starting with {SIMULATED_PREFIX!r}")
    existing = ImageVector.objects.filter(embedding_model=model_key).count()
    ensure_vectors_fit_in_rows(space.dim)  # as ingest does before its first row
    for start in range(existing, count, batch_size):
        stop = min(start + batch_size, count)
        _copy_rows(space, model_key, start, stop)
        if on_batch:
            on_batch(stop - start)
    with connection.cursor() as cursor:
        cursor.execute(f"ANALYZE search_image, {VECTOR_TABLE}")
    return max(count - existing, 0)


def _rows(model_key: str, ids: list[int], start: int) -> Iterator[tuple]:
    now = datetime.now(UTC)
    for offset, image_id in enumerate(ids):
        row = start + offset
        digest = hashlib.sha256(f"{model_key}#{row}".encode()).hexdigest()
        category = category_of(row)
        yield (
            image_id,
            digest,
            f"sim-{row}.jpg",
            f"simulated/{digest}.jpg",
            f"simulated/{digest}.thumb.jpg",
            640,
            480,
            "JPEG",
            50_000,
            "folder",
            "",
            category,
            f"simulated image {row} ({category})",
            False,
            "",
            "",
            False,
            False,
            "",
            "",
            "",
            "",
            now,
            now,
        )


def _vector_rows(space: VectorSpace, model_key: str, ids: list[int], start: int) -> Iterator[tuple]:
    vectors = space.rows(start, start + len(ids)).astype(">f2")  # the column's halfvec
    header = struct.pack(">HH", space.dim, 0)
    for image_id, vector in zip(ids, vectors, strict=True):
        yield image_id, model_key, header + vector.tobytes()


def _copy_rows(space: VectorSpace, model_key: str, start: int, stop: int) -> None:
    """Rows [start, stop) of the collection: the images, then their vectors, in one transaction."""
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence('search_image', 'id')) FROM generate_series(1, %s)", [stop - start]
        )
        ids = [image_id for (image_id,) in cursor.fetchall()]
        _copy(cursor, "search_image", _COLUMNS, _rows(model_key, ids, start))
        _copy(cursor, VECTOR_TABLE, _VECTOR_COLUMNS, _vector_rows(space, model_key, ids, start))


def _copy(cursor, table: str, columns: tuple[tuple[str, str], ...], rows: Iterator[tuple]) -> None:
    names = ", ".join(name for name, _ in columns)
    raw = cursor.cursor  # the psycopg cursor under Django's wrapper
    with raw.copy(f"COPY {table} ({names}) FROM STDIN WITH (FORMAT BINARY)") as copy:
        copy.set_types([kind for _, kind in columns])
        for row in rows:
            copy.write_row(row)


@dataclass(frozen=True)
class IndexBuild:
    name: str
    kind: str
    seconds: float
    bytes: int
    existed: bool = False  # the index was there already: nothing was built


def build_index(
    model_key: str,
    dim: int,
    *,
    halfvec: bool = False,
    kind: str | None = None,
    maintenance_work_mem: str = "1GB",
    parallel_workers: int = 1,
    rebuild: bool = False,
) -> IndexBuild:
    """Build the collection's HNSW index (pgvector parallel build) and report its build time and size.

    The graph should fit in maintenance_work_mem: past it pgvector keeps building on disk, many times slower.
    """
    kind = index_kind(kind, halfvec=halfvec)
    name = hnsw_index_name(model_key, kind=kind)
    with connection.cursor() as cursor:
        if connection.in_atomic_block:
            # DDL is refused while deferred constraint checks are pending (rows just inserted): run them now.
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        if rebuild:
            cursor.execute(f"DROP INDEX IF EXISTS {name}")
        existed = relation_size(name) > 0
        cursor.execute("SELECT set_config('maintenance_work_mem', %s, false)", [maintenance_work_mem])
        cursor.execute("SELECT set_config('max_parallel_maintenance_workers', %s, false)", [str(parallel_workers)])
        started = time.perf_counter()
        try:
            ensure_hnsw_index(model_key, dim, kind=kind)
        finally:
            cursor.execute("RESET maintenance_work_mem")
            cursor.execute("RESET max_parallel_maintenance_workers")
        seconds = time.perf_counter() - started
    return IndexBuild(name=name, kind=kind, seconds=seconds, bytes=relation_size(name), existed=existed)


def relation_size(name: str) -> int:
    """Bytes of a table (with its TOAST, where 2 KB vectors live) or an index; 0 when it does not exist."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT coalesce(pg_table_size(to_regclass(%s)), 0)", [name])
        return int(cursor.fetchone()[0])


def exact_neighbours(
    space: VectorSpace, queries: np.ndarray, *, count: int, k: int, category: str | None = None
) -> np.ndarray:
    """Row numbers of each query's k nearest rows by cosine, by brute force over the regenerated vectors."""
    best_scores = np.full((len(queries), 0), -np.inf, dtype=np.float32)
    best_rows = np.zeros((len(queries), 0), dtype=np.int64)
    for start in range(0, count, GENERATION_CHUNK):
        stop = min(start + GENERATION_CHUNK, count)
        rows = np.arange(start, stop)
        vectors = space.rows(start, stop)
        if category is not None:
            keep = np.array([category_of(int(row)) == category for row in rows])
            rows, vectors = rows[keep], vectors[keep]
        scores = np.concatenate([best_scores, queries @ vectors.T], axis=1)
        candidates = np.concatenate([best_rows, np.broadcast_to(rows, (len(queries), len(rows)))], axis=1)
        top = np.argsort(-scores, axis=1, kind="stable")[:, :k]
        best_scores = np.take_along_axis(scores, top, axis=1)
        best_rows = np.take_along_axis(candidates, top, axis=1)
    return best_rows


def row_number(image: Image) -> int:
    """The row number a simulated image was generated from (its name is sim-<row>.jpg)."""
    return int(image.original_name.removeprefix("sim-").removesuffix(".jpg"))


def simulated_collections() -> dict[str, int]:
    """Simulated model keys in this database and their row counts."""
    rows = (
        ImageVector.objects.filter(embedding_model__startswith=SIMULATED_PREFIX)
        .values_list("embedding_model")
        .order_by("embedding_model")
        .annotate(n=Count("image"))
    )
    return dict(rows)


def drop_simulated(model_key: str) -> int:
    """Delete a simulated collection and its indexes; returns the number of rows deleted."""
    if not model_key.startswith(SIMULATED_PREFIX):
        raise ValueError(f"only simulated collections ({SIMULATED_PREFIX}...) can be dropped here")
    with connection.cursor() as cursor:
        for kind in INDEX_KINDS:
            cursor.execute(f"DROP INDEX IF EXISTS {hnsw_index_name(model_key, kind=kind)}")
        # Vectors first: the foreign key is checked at commit, and ON DELETE CASCADE is Django's, not the table's.
        cursor.execute(
            f"WITH gone AS (DELETE FROM {VECTOR_TABLE} WHERE embedding_model = %s RETURNING image_id) "
            "DELETE FROM search_image WHERE id IN (SELECT image_id FROM gone)",
            [model_key],
        )
        return cursor.rowcount
