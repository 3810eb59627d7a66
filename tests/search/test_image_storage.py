"""Where and how PostgreSQL keeps an image's values (migrations 0008, 0009 and 0011, ensure_vectors_fit_in_rows):
the search vector at half precision in its own narrow table, kept in its row; the image's short texts in the image's
row, its caption vector the first out to TOAST."""

import numpy as np
import pytest
from django.db import connection

from search.models import Image
from search.vector_index import (
    LARGEST_ROW_TARGET,
    VECTOR_TABLE,
    current_row_target,
    ensure_hnsw_index,
    ensure_vectors_fit_in_rows,
    row_target,
)
from tests.factories import image_row, unit_vector

pytestmark = pytest.mark.django_db

SHORT_TEXTS = ("sha256", "original_name", "file", "thumbnail", "caption")


def _out_of_row(table: str, key: str, row_id: int, columns) -> set[str]:
    """The columns whose value for this row lives in TOAST (PostgreSQL 17+)."""
    selected = ", ".join(f"pg_column_toast_chunk_id({column}) IS NOT NULL" for column in columns)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {selected} FROM {table} WHERE {key} = %s", [row_id])
        return {column for column, moved in zip(columns, cursor.fetchone(), strict=True) if moved}


def _vector_out_of_row(image: Image) -> bool:
    return _out_of_row(VECTOR_TABLE, "image_id", image.id, ("embedding",)) == {"embedding"}


def _image_out_of_row(image: Image, columns=SHORT_TEXTS) -> set[str]:
    return _out_of_row("search_image", "id", image.id, columns)


def test_the_search_vector_is_a_half_precision_column_kept_in_its_row_of_the_vector_table():
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT format_type(atttypid, atttypmod), attstorage FROM pg_attribute "
            "WHERE attrelid = %s::regclass AND attname = 'embedding' AND NOT attisdropped",
            [VECTOR_TABLE],
        )
        assert cursor.fetchone() == ("halfvec", "m")  # m: MAIN, leaves the row only if the row cannot fit a page
        cursor.execute(
            "SELECT count(*) FROM pg_attribute WHERE attrelid = 'search_image'::regclass AND attnum > 0 "
            "AND NOT attisdropped AND attname IN ('embedding', 'embedding_model')"
        )
        assert cursor.fetchone() == (0,)  # the image rows no longer carry it (migration 0011)


def test_a_search_vector_reads_back_within_half_precision():
    vector = unit_vector(512, 5)
    image = image_row(vector=vector, model_key="storage:512")
    image.vector.refresh_from_db()
    stored = np.asarray(image.vector.embedding, dtype=np.float32)
    assert np.abs(stored - vector).max() <= np.abs(vector).max() * 2**-11  # float16: 11 significant bits
    assert np.array_equal(stored, vector.astype(np.float16).astype(np.float32))


def test_a_512_d_search_vector_and_the_short_texts_stay_in_their_rows():
    image = image_row(vector=unit_vector(512, 1), model_key="storage:512", caption="a dog in the snow")
    assert not _vector_out_of_row(image)
    assert _image_out_of_row(image) == set()


def test_a_captioned_row_moves_its_caption_vector_out_first():
    vector = unit_vector(512, 2)
    image = image_row(vector=vector, model_key="storage:512", caption="a dog", caption_embedding=np.flip(vector).copy())
    assert _image_out_of_row(image, ("caption_embedding", *SHORT_TEXTS)) == {"caption_embedding"}
    assert not _vector_out_of_row(image)


def test_a_longer_model_raises_the_row_target_before_its_rows_are_written():
    ensure_hnsw_index("storage:512", 512)
    assert current_row_target() == 0  # PostgreSQL's default holds a 512-d half vector
    ensure_hnsw_index("storage:1024", 1024)
    assert current_row_target() == row_target(1024) > row_target(512)
    vector = unit_vector(1024, 3)
    image = image_row(vector=vector, model_key="storage:1024", caption="x")
    assert not _vector_out_of_row(image)
    ensure_hnsw_index("storage:512", 512)  # only ever raised: both models' rows share the table
    assert current_row_target() == row_target(1024)
    image.vector.refresh_from_db()
    assert np.allclose(np.asarray(image.vector.embedding), vector, atol=1e-3)


def test_a_row_too_long_for_a_page_still_fits():
    ensure_vectors_fit_in_rows(4000)  # 8 KB vectors (pgvector's most for a halfvec index): the target stops at a page
    assert current_row_target() == LARGEST_ROW_TARGET
    vector = unit_vector(4000, 4)
    image = image_row(vector=vector, model_key="storage:4000", caption="words " * 2000, caption_embedding=vector[:2000])
    image.vector.refresh_from_db()
    assert np.allclose(np.asarray(image.vector.embedding), vector, atol=1e-3)
    assert not _vector_out_of_row(image)
