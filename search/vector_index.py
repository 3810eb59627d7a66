"""The HNSW index behind ImageQuerySet.nearest: one partial index per CLIP model and index kind.

The search vectors live in a narrow table of their own (VECTOR_TABLE, the ImageVector model, migration 0011), and
so do their indexes. Vectors of different models (and dimensions) can share the column while a collection is
re-embedded, so each model gets its own partial index, restricted to that model's rows. The kind (the VECTOR_INDEX
setting) says what the graph holds:

- `halfvec` (the default): `embedding::halfvec(dim)`, 16-bit floats, as precise as the stored vectors;
- `bit`: `binary_quantize(embedding::vector(dim))::bit(dim)`, one bit a dimension compared by Hamming distance;
  nearest() re-ranks the best SEARCH_BIT_CANDIDATES of it by the stored vectors (the index is ~1/4 of `halfvec`);
- `vector`: `embedding::vector(dim)`, 4 bytes a dimension in the graph.

The column itself holds 16-bit floats (migration 0009), so the `vector` kind holds no more precision than
`halfvec`, only twice the bytes; it stays for the indexes built before (migration 0010 replaced those built under
the old default).

ImageQuerySet.nearest writes the same expressions, so the planner can match them to the index.
"""

from __future__ import annotations

import hashlib

from django.conf import settings
from django.db import IntegrityError, ProgrammingError, connection

VECTOR, HALFVEC, BIT = "vector", "halfvec", "bit"
VECTOR_TABLE = "search_imagevector"
INDEX_KINDS = (VECTOR, HALFVEC, BIT)
_SUFFIX = {VECTOR: "", HALFVEC: "_half", BIT: "_bit"}


def index_kind(kind: str | None = None, *, halfvec: bool | None = None) -> str:
    """The kind asked for: `kind`, else halfvec=True/False (the older switch), else the VECTOR_INDEX setting."""
    if kind is None:
        kind = settings.VECTOR_INDEX if halfvec is None else (HALFVEC if halfvec else VECTOR)
    if kind not in INDEX_KINDS:
        raise ValueError(f"unknown vector index kind {kind!r}: one of {', '.join(INDEX_KINDS)}")
    return kind


def hnsw_index_name(model_key: str, *, halfvec: bool | None = None, kind: str | None = None) -> str:
    """The name of `model_key`'s index of `kind` (default: the VECTOR_INDEX setting, as for ensure_hnsw_index)."""
    suffix = _SUFFIX[index_kind(kind, halfvec=halfvec)]
    return f"search_image_hnsw_{hashlib.sha1(model_key.encode()).hexdigest()[:12]}{suffix}"


def index_definition(kind: str, dimensions: int) -> str:
    """The indexed expression and operator class of a kind, for `dimensions`-long vectors."""
    dim = int(dimensions)
    if kind == BIT:
        return f"(binary_quantize(embedding::vector({dim}))::bit({dim})) bit_hamming_ops"
    return f"(embedding::{kind}({dim})) {kind}_cosine_ops"


# What a vector row holds besides its vector (header, image id, model key of up to 300 characters), for the table's
# toast_tuple_target; 8160 is the most PostgreSQL accepts (a row must fit in a page).
ROOM_BESIDES_THE_VECTOR = 400
LARGEST_ROW_TARGET = 8160
DEFAULT_ROW_TARGET = 2032  # PostgreSQL's own, with 8 KB pages


def row_target(dimensions: int) -> int:
    """The vector table's toast_tuple_target that keeps a `dimensions`-long search vector in its row: a halfvec is 2
    bytes a dimension and an 8-byte header."""
    return min(LARGEST_ROW_TARGET, 2 * int(dimensions) + 8 + ROOM_BESIDES_THE_VECTOR)


def ensure_vectors_fit_in_rows(dimensions: int) -> None:
    """Raise the vector table's toast_tuple_target so rows keep `dimensions`-long vectors (before writing any).

    The search vector is MAIN storage: it leaves its row only if the row would not fit in a page, so re-ranks and
    exact comparisons never go through TOAST. PostgreSQL's default target (about 2 KB) holds a 512-d halfvec; a
    longer model's vectors would be compressed (and random vectors do not compress) or moved out, hence raising
    it before the first row of such a model is written. Only ever raised: models share the table.
    """
    wanted = row_target(dimensions)
    if (current_row_target() or DEFAULT_ROW_TARGET) < wanted:
        with connection.cursor() as cursor:
            cursor.execute(f"ALTER TABLE {VECTOR_TABLE} SET (toast_tuple_target = {wanted})")


def index_exists(name: str) -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_class WHERE relname = %s", [name])
        return cursor.fetchone() is not None


def current_row_target() -> int:
    """The vector table's toast_tuple_target now; 0 while it has PostgreSQL's default."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT reloptions FROM pg_class WHERE oid = %s::regclass", [VECTOR_TABLE])
        options = dict(option.split("=", 1) for option in cursor.fetchone()[0] or [])
    return int(options.get("toast_tuple_target", 0))


def caption_hnsw_index_name(model_key: str) -> str:
    return f"search_caption_hnsw_{hashlib.sha1(model_key.encode()).hexdigest()[:12]}"


def ensure_hnsw_index(model_key: str, dimensions: int, *, halfvec: bool | None = None, kind: str | None = None) -> None:
    """Create the HNSW index of `kind` (default: VECTOR_INDEX) for `model_key` unless it exists (cheap to repeat),
    after making room in the rows for its vectors (called before a model's rows are written).

    Not cached in the process: a rolled-back transaction (or a recreated database) can take the index away.
    halfvec=True/False is the older way to ask for the halfvec / vector kind.
    """
    kind = index_kind(kind, halfvec=halfvec)
    ensure_vectors_fit_in_rows(dimensions)
    create_index(
        hnsw_index_name(model_key, kind=kind),
        f"{VECTOR_TABLE} USING hnsw ({index_definition(kind, dimensions)}) WHERE embedding_model = %s",
        [model_key],
    )


def drop_hnsw_indexes(model_key: str, *, keep: str) -> list[str]:
    """Drop the model's HNSW indexes of every kind but `keep` (after switching VECTOR_INDEX); their names."""
    dropped = []
    with connection.cursor() as cursor:
        for kind in INDEX_KINDS:
            name = hnsw_index_name(model_key, kind=kind)
            if kind == keep:
                continue
            if index_exists(name):
                concurrently = "" if connection.in_atomic_block else " CONCURRENTLY"
                cursor.execute(f"DROP INDEX{concurrently} IF EXISTS {name}")
                dropped.append(name)
    return dropped


def ensure_caption_hnsw_index(model_key: str, dimensions: int) -> None:
    """The same for caption vectors (ImageQuerySet.nearest_captions): one partial index per CLIP model."""
    create_index(
        caption_hnsw_index_name(model_key),
        f"search_image USING hnsw ((caption_embedding::vector({int(dimensions)})) vector_cosine_ops) "
        "WHERE caption_embedding_model = %s",
        [model_key],
    )


def create_index(name: str, definition: str, params: list) -> None:
    """CREATE INDEX `name` ON `definition` unless a valid one exists.

    Outside a transaction the build is CONCURRENTLY: the first ingest of a new model into a large collection must
    not block every other writer for the minutes an HNSW build takes. A concurrent build that died leaves an
    invalid index behind; it is dropped and built again. Inside a transaction (tests, rolled-back benchmarks) the
    build is a plain one, after running the pending deferred constraint checks that would make Postgres refuse it.
    """
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT i.indisvalid FROM pg_class c JOIN pg_index i ON i.indexrelid = c.oid WHERE c.relname = %s",
            [name],
        )
        found = cursor.fetchone()
        if found and found[0]:
            return
        if connection.in_atomic_block:
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            cursor.execute(f"CREATE INDEX IF NOT EXISTS {name} ON {definition}", params)
            return
        if found:  # invalid: a concurrent build that did not finish
            cursor.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {name}")
        try:
            cursor.execute(f"CREATE INDEX CONCURRENTLY IF NOT EXISTS {name} ON {definition}", params)
        except (IntegrityError, ProgrammingError):
            # Another process started the same build a moment earlier: its index is the one to use.
            cursor.execute("SELECT 1 FROM pg_class WHERE relname = %s", [name])
            if not cursor.fetchone():
                raise
