"""The HNSW index behind ImageQuerySet.nearest: one partial index per CLIP model.

Vectors of different models (and dimensions) can share the column while a collection is re-embedded, so each
model gets its own partial index over `embedding::vector(dim)`, restricted to that model's rows.
"""

from __future__ import annotations

import hashlib

from django.conf import settings
from django.db import IntegrityError, ProgrammingError, connection


def hnsw_index_name(model_key: str, *, halfvec: bool = False) -> str:
    suffix = "_half" if halfvec else ""
    return f"search_image_hnsw_{hashlib.sha1(model_key.encode()).hexdigest()[:12]}{suffix}"


def caption_hnsw_index_name(model_key: str) -> str:
    return f"search_caption_hnsw_{hashlib.sha1(model_key.encode()).hexdigest()[:12]}"


def ensure_hnsw_index(model_key: str, dimensions: int, *, halfvec: bool | None = None) -> None:
    """Create the cosine HNSW index for `model_key` if it does not exist yet (cheap to call again).

    Not cached in the process: a rolled-back transaction (or a recreated database) can take the index away.
    halfvec (default: the SEARCH_HALFVEC setting) indexes `embedding::halfvec(dim)` instead: half the memory, for
    ImageQuerySet.nearest(halfvec=True).
    """
    if halfvec is None:
        halfvec = settings.SEARCH_HALFVEC
    kind = "halfvec" if halfvec else "vector"
    _create_index(
        hnsw_index_name(model_key, halfvec=halfvec),
        f"search_image USING hnsw ((embedding::{kind}({int(dimensions)})) {kind}_cosine_ops) "
        "WHERE embedding_model = %s",
        [model_key],
    )


def ensure_caption_hnsw_index(model_key: str, dimensions: int) -> None:
    """The same for caption vectors (ImageQuerySet.nearest_captions): one partial index per CLIP model."""
    _create_index(
        caption_hnsw_index_name(model_key),
        f"search_image USING hnsw ((caption_embedding::vector({int(dimensions)})) vector_cosine_ops) "
        "WHERE caption_embedding_model = %s",
        [model_key],
    )


def _create_index(name: str, definition: str, params: list) -> None:
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
