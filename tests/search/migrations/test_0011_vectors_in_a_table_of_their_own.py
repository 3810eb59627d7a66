"""Migration 0011 moves the search vectors into their own table, with their HNSW indexes, and back."""

import pytest
from django.db import connection

from search.vector_index import BIT, HALFVEC, INDEX_KINDS, VECTOR_TABLE, hnsw_index_name
from tests.factories import unit_vector
from tests.search.migrations.test_0010_halfvec_index_by_default import old_index

BEFORE = [("search", "0010_halfvec_index_by_default")]
AFTER = [("search", "0011_vectors_in_a_table_of_their_own")]
FIELDS = {"width": 1, "height": 1, "format": "JPEG", "byte_size": 1}
PLAIN, QUANTIZED = "m:plain", "m:quantized"


def _indexes() -> dict[str, tuple[str, bool]]:
    """Each HNSW index of the two models: (its table, whether it is valid)."""
    names = [hnsw_index_name(key, kind=kind) for key in (PLAIN, QUANTIZED) for kind in INDEX_KINDS]
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.relname, t.relname, i.indisvalid FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
            "JOIN pg_class t ON t.oid = i.indrelid WHERE c.relname = ANY(%s)",
            [names],
        )
        return {name: (table, valid) for name, table, valid in cursor.fetchall()}


def _columns(table: str) -> set[str]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT attname FROM pg_attribute WHERE attrelid = %s::regclass AND attnum > 0 AND NOT attisdropped",
            [table],
        )
        return {name for (name,) in cursor.fetchall()}


def _rows(sql: str) -> dict[str, tuple[str, str]]:
    """sha256 -> (model key, the vector as PostgreSQL prints it): equal text is equal bits."""
    with connection.cursor() as cursor:
        cursor.execute(sql)
        return {sha: (key, text) for sha, key, text in cursor.fetchall()}


IN_THE_IMAGE_ROWS = "SELECT sha256, embedding_model, embedding::text FROM search_image WHERE embedding IS NOT NULL"
IN_THE_VECTOR_TABLE = (
    "SELECT image.sha256, vector.embedding_model, vector.embedding::text FROM search_imagevector AS vector "
    "JOIN search_image AS image ON image.id = vector.image_id"
)


@pytest.fixture
def indexes_dropped_afterwards():
    yield
    with connection.cursor() as cursor:  # a flush empties the tables but keeps their indexes
        for key in (PLAIN, QUANTIZED):
            for kind in INDEX_KINDS:
                cursor.execute(f"DROP INDEX IF EXISTS {hnsw_index_name(key, kind=kind)}")


@pytest.mark.django_db(transaction=True)  # migrations run their own transactions
def test_vectors_and_their_indexes_move_to_the_vector_table_and_back(migrate, indexes_dropped_afterwards):
    apps = migrate(BEFORE)
    Image = apps.get_model("search", "Image")
    vectors = {f"{key}{seed}": unit_vector(8, seed) for key in (PLAIN, QUANTIZED) for seed in range(3)}
    for sha, vector in vectors.items():
        Image.objects.create(sha256=sha, embedding=vector, embedding_model=sha[:-1], **FIELDS)
    Image.objects.create(sha256="not embedded", **FIELDS)
    old_index(PLAIN, 8, HALFVEC)
    old_index(QUANTIZED, 8, BIT)
    before = _rows(IN_THE_IMAGE_ROWS)
    assert len(before) == 6 and all(key == sha[:-1] for sha, (key, _) in before.items())

    migrate(AFTER)
    assert _rows(IN_THE_VECTOR_TABLE) == before  # bit for bit, and none for the image without a vector
    assert _indexes() == {
        hnsw_index_name(PLAIN, kind=HALFVEC): (VECTOR_TABLE, True),
        hnsw_index_name(QUANTIZED, kind=BIT): (VECTOR_TABLE, True),
    }
    assert not {"embedding", "embedding_model"} & _columns("search_image")
    with connection.cursor() as cursor:
        cursor.execute("SELECT reloptions FROM pg_class WHERE relname = 'search_image'")
        assert cursor.fetchone() == (None,)  # PostgreSQL's default row target again: no search vector in the rows

    apps = migrate(BEFORE)
    assert _rows(IN_THE_IMAGE_ROWS) == before
    assert apps.get_model("search", "Image").objects.get(sha256="not embedded").embedding_model == ""
    assert _indexes() == {
        hnsw_index_name(PLAIN, kind=HALFVEC): ("search_image", True),
        hnsw_index_name(QUANTIZED, kind=BIT): ("search_image", True),
    }
