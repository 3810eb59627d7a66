"""The HNSW index behind ImageQuerySet.nearest: one partial index per CLIP model.

Vectors of different models (and dimensions) can share the column while a collection is re-embedded, so each
model gets its own partial index over `embedding::vector(dim)`, restricted to that model's rows.
"""

from __future__ import annotations

import hashlib

from django.db import connection


def hnsw_index_name(model_key: str) -> str:
    return f"search_image_hnsw_{hashlib.sha1(model_key.encode()).hexdigest()[:12]}"


def ensure_hnsw_index(model_key: str, dimensions: int) -> None:
    """Create the cosine HNSW index for `model_key` if it does not exist yet (cheap to call again).

    Not cached in the process: a rolled-back transaction (or a recreated database) can take the index away.
    """
    with connection.cursor() as cursor:
        cursor.execute(
            f"CREATE INDEX IF NOT EXISTS {hnsw_index_name(model_key)} ON search_image "
            f"USING hnsw ((embedding::vector({int(dimensions)})) vector_cosine_ops) "
            "WHERE embedding_model = %s",
            [model_key],
        )
