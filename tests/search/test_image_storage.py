"""Where PostgreSQL keeps an image's values (migration 0008, vector_index.ensure_vectors_fit_in_rows): the search
vector and the short texts in the row, the caption vector the first to move out to TOAST."""

import numpy as np
import pytest
from django.db import connection

from search.models import Image
from search.vector_index import LARGEST_ROW_TARGET, ensure_hnsw_index, row_target
from tests.factories import image_row, unit_vector

pytestmark = pytest.mark.django_db

SHORT_TEXTS = ("sha256", "original_name", "file", "thumbnail", "caption", "embedding_model")


def _out_of_row(image: Image, columns) -> set[str]:
    """The columns whose value for this row lives in TOAST (PostgreSQL 17+)."""
    selected = ", ".join(f"pg_column_toast_chunk_id({column}) IS NOT NULL" for column in columns)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {selected} FROM search_image WHERE id = %s", [image.id])
        return {column for column, moved in zip(columns, cursor.fetchone(), strict=True) if moved}


def _row_target() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT reloptions FROM pg_class WHERE oid = 'search_image'::regclass")
        options = dict(option.split("=", 1) for option in cursor.fetchone()[0] or [])
    return int(options["toast_tuple_target"])


def test_a_512_d_search_vector_and_the_short_texts_stay_in_the_row():
    image = image_row(vector=unit_vector(512, 1), model_key="storage:512", caption="a dog in the snow")
    assert _out_of_row(image, ("embedding", *SHORT_TEXTS)) == set()


def test_a_captioned_row_moves_its_caption_vector_out_first():
    vector = unit_vector(512, 2)
    image = image_row(vector=vector, model_key="storage:512", caption="a dog", caption_embedding=np.flip(vector).copy())
    assert _out_of_row(image, ("embedding", "caption_embedding", *SHORT_TEXTS)) == {"caption_embedding"}


def test_a_longer_model_raises_the_row_target_before_its_rows_are_written():
    ensure_hnsw_index("storage:1024", 1024)
    assert _row_target() == row_target(1024) > row_target(512)
    vector = unit_vector(1024, 3)
    image = image_row(vector=vector, model_key="storage:1024", caption="x", caption_embedding=np.flip(vector).copy())
    assert _out_of_row(image, ("embedding", "caption_embedding", *SHORT_TEXTS)) == {"caption_embedding"}
    ensure_hnsw_index("storage:512", 512)  # only ever raised: both models' rows share the table
    assert _row_target() == row_target(1024)
    image.refresh_from_db()
    assert np.allclose(np.asarray(image.embedding), vector, atol=1e-6)


def test_a_row_too_long_for_a_page_still_fits():
    ensure_hnsw_index("storage:1536", 1536)  # 6 KB search vectors: the target stops at a page
    assert _row_target() == LARGEST_ROW_TARGET
    vector = unit_vector(1536, 4)
    image = image_row(vector=vector, model_key="storage:1536", caption="words " * 2000, caption_embedding=vector)
    image.refresh_from_db()
    assert np.allclose(np.asarray(image.embedding), vector, atol=1e-6) and len(image.caption) == 12000
