"""Migration 0009 turns the search vectors into halfvec without losing a row, and keeps them in their rows."""

import numpy as np
import pytest
from django.db import connection

from tests.factories import unit_vector

BEFORE = [("search", "0008_embedding_stored_in_the_row")]
AFTER = [("search", "0009_embedding_at_half_precision")]


def _column() -> tuple[str, str, list[str]]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT format_type(atttypid, atttypmod), attstorage, reloptions FROM pg_attribute "
            "JOIN pg_class ON pg_class.oid = attrelid WHERE attrelid = 'search_image'::regclass AND attname = 'embedding'"
        )
        return cursor.fetchone()


@pytest.mark.django_db(transaction=True)  # migrations run their own transactions
def test_every_vector_survives_at_half_precision_in_its_row(migrate):
    vector = unit_vector(512, 9)
    apps = migrate(BEFORE)
    assert _column() == ("vector", "m", ["toast_tuple_target=4104"])
    fields = {"width": 1, "height": 1, "format": "JPEG", "byte_size": 1, "embedding_model": "m:1"}
    apps.get_model("search", "Image").objects.create(sha256="a", embedding=vector, **fields)
    migrate(AFTER)
    assert _column() == ("halfvec", "m", ["toast_tuple_target=3080"])
    with connection.cursor() as cursor:
        cursor.execute("SELECT embedding::text, pg_column_toast_chunk_id(embedding) FROM search_image")
        (text, chunk), *others = cursor.fetchall()
    stored = np.array([float(value) for value in text.strip("[]").split(",")], dtype=np.float32)
    assert others == [] and chunk is None
    np.testing.assert_array_equal(stored, vector.astype(np.float16).astype(np.float32))
