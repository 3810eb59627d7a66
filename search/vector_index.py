"""The HNSW index behind ImageQuerySet.nearest: one partial index per CLIP model.

Vectors of different models (and dimensions) can share the column while a collection is re-embedded, so each
model gets its own partial index over `embedding::vector(dim)`, restricted to that model's rows.
"""

from __future__ import annotations

import hashlib

from django.conf import settings
from django.db import connection


def hnsw_index_name(model_key: str, *, halfvec: bool = False) -> str:
    suffix = "_half" if halfvec else ""
    return f"search_image_hnsw_{hashlib.sha1(model_key.encode()).hexdigest()[:12]}{suffix}"


def caption_hnsw_index_name(model_key: str) -> str:
    return f"search_caption_hnsw_{hashlib.sha1(model_key.encode()).hexdigest()[:12]}"


def ensure_hnsw_index(model_key: str, dimensions: int, *, halfvec: bool | None = None) -> None:
    """Create the cosine HNSW index for `model_key` if it does not exist yet (cheap to call again).

    Not cached in the process: a rolled-back transaction (or a recreated database) can take the index away. The
    existence check comes first because DDL is refused inside a transaction with pending deferred-constraint checks.
    halfvec (default: the SEARCH_HALFVEC setting) indexes `embedding::halfvec(dim)` instead: half the memory, for
    ImageQuerySet.nearest(halfvec=True).
    """
    if halfvec is None:
        halfvec = settings.SEARCH_HALFVEC
    kind = "halfvec" if halfvec else "vector"
    name = hnsw_index_name(model_key, halfvec=halfvec)
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_class WHERE relname = %s AND relkind = 'i'", [name])
        if cursor.fetchone():
            return
        cursor.execute(
            f"CREATE INDEX IF NOT EXISTS {name} ON search_image "
            f"USING hnsw ((embedding::{kind}({int(dimensions)})) {kind}_cosine_ops) "
            "WHERE embedding_model = %s",
            [model_key],
        )


def ensure_caption_hnsw_index(model_key: str, dimensions: int) -> None:
    """The same for caption vectors (ImageQuerySet.nearest_captions): one partial index per CLIP model."""
    name = caption_hnsw_index_name(model_key)
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_class WHERE relname = %s AND relkind = 'i'", [name])
        if cursor.fetchone():
            return
        if connection.in_atomic_block:
            # DDL is refused while deferred constraint checks are pending (e.g. rows just inserted): run them now.
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute(
            f"CREATE INDEX IF NOT EXISTS {name} ON search_image "
            f"USING hnsw ((caption_embedding::vector({int(dimensions)})) vector_cosine_ops) "
            "WHERE caption_embedding_model = %s",
            [model_key],
        )
