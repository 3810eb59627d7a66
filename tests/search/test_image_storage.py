"""Where and how PostgreSQL keeps an image's values (migrations 0008 and 0009, vector_index.ensure_vectors_fit_in_rows):
the search vector at half precision and the short texts in the row, the caption vector the first out to TOAST."""

import numpy as np
import pytest
from django.db import connection

from search.models import Image
from search.vector_index import (
    LARGEST_ROW_TARGET,
    current_row_target,
    ensure_hnsw_index,
    ensure_vectors_fit_in_rows,
    row_target,
)
from tests.factories import image_row, unit_vector

pytestmark = pytest.mark.django_db

SHORT_TEXTS = ("sha256", "original_name", "file", "thumbnail", "caption", "embedding_model")


def _out_of_row(image: Image, columns) -> set[str]:
    """The columns whose value for this row lives in TOAST (PostgreSQL 17+)."""
    selected = ", ".join(f"pg_column_toast_chunk_id({column}) IS NOT NULL" for column in columns)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {selected} FROM search_image WHERE id = %s", [image.id])
        return {column for column, moved in zip(columns, cursor.fetchone(), strict=True) if moved}


def test_the_search_vector_is_a_half_precision_column_kept_in_its_row():
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT format_type(atttypid, atttypmod), attstorage FROM pg_attribute "
            "WHERE attrelid = 'search_image'::regclass AND attname = 'embedding'"
        )
        assert cursor.fetchone() == ("halfvec", "m")  # m: MAIN, leaves the row only if the row cannot fit a page


def test_a_search_vector_reads_back_within_half_precision():
    vector = unit_vector(512, 5)
    image = image_row(vector=vector, model_key="storage:512")
    image.refresh_from_db()
    stored = np.asarray(image.embedding, dtype=np.float32)
    assert np.abs(stored - vector).max() <= np.abs(vector).max() * 2**-11  # float16: 11 significant bits
    assert np.array_equal(stored, vector.astype(np.float16).astype(np.float32))


def test_a_512_d_search_vector_and_the_short_texts_stay_in_the_row():
    image = image_row(vector=unit_vector(512, 1), model_key="storage:512", caption="a dog in the snow")
    assert _out_of_row(image, ("embedding", *SHORT_TEXTS)) == set()


def test_a_captioned_row_moves_its_caption_vector_out_first():
    vector = unit_vector(512, 2)
    image = image_row(vector=vector, model_key="storage:512", caption="a dog", caption_embedding=np.flip(vector).copy())
    assert _out_of_row(image, ("embedding", "caption_embedding", *SHORT_TEXTS)) == {"caption_embedding"}


def test_a_longer_model_raises_the_row_target_before_its_rows_are_written():
    ensure_hnsw_index("storage:1024", 1024)
    assert current_row_target() == row_target(1024) > row_target(512)
    vector = unit_vector(1024, 3)
    image = image_row(vector=vector, model_key="storage:1024", caption="x", caption_embedding=np.flip(vector).copy())
    assert _out_of_row(image, ("embedding", "caption_embedding", *SHORT_TEXTS)) == {"caption_embedding"}
    ensure_hnsw_index("storage:512", 512)  # only ever raised: both models' rows share the table
    assert current_row_target() == row_target(1024)
    image.refresh_from_db()
    assert np.allclose(np.asarray(image.embedding), vector, atol=1e-3)


def test_a_row_too_long_for_a_page_still_fits():
    ensure_vectors_fit_in_rows(3072)  # 6 KB search vectors (past a `vector` index's 2000): the target stops at a page
    assert current_row_target() == LARGEST_ROW_TARGET
    vector = unit_vector(3072, 4)
    image = image_row(vector=vector, model_key="storage:3072", caption="words " * 2000, caption_embedding=vector)
    image.refresh_from_db()
    assert np.allclose(np.asarray(image.embedding), vector, atol=1e-3) and len(image.caption) == 12000
