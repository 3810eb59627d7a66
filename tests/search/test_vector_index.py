import pytest
from django.db import connection

from search.vector_index import ensure_hnsw_index, hnsw_index_name

# Outside a transaction, as in an ingest command or a Celery task: the build runs CONCURRENTLY.
pytestmark = pytest.mark.django_db(transaction=True)

MODEL_KEY = "test-index:concurrent"


def _index_state(name: str):
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT i.indisvalid, pg_get_indexdef(i.indexrelid) FROM pg_class c "
            "JOIN pg_index i ON i.indexrelid = c.oid WHERE c.relname = %s",
            [name],
        )
        return cursor.fetchone()


@pytest.fixture
def index_name():
    name = hnsw_index_name(MODEL_KEY)
    yield name
    with connection.cursor() as cursor:
        cursor.execute(f"DROP INDEX IF EXISTS {name}")


def test_outside_a_transaction_the_index_is_built_and_valid(index_name):
    assert not connection.in_atomic_block
    ensure_hnsw_index(MODEL_KEY, 8)
    valid, definition = _index_state(index_name)
    assert valid and "hnsw" in definition and MODEL_KEY in definition
    ensure_hnsw_index(MODEL_KEY, 8)  # a second call finds it and does nothing
    assert _index_state(index_name)[0]


def test_an_invalid_index_left_by_a_dead_build_is_built_again(index_name):
    ensure_hnsw_index(MODEL_KEY, 8)
    with connection.cursor() as cursor:  # what a concurrent build killed half-way leaves behind
        cursor.execute(
            "UPDATE pg_index SET indisvalid = false WHERE indexrelid = (SELECT oid FROM pg_class WHERE relname = %s)",
            [index_name],
        )
    assert _index_state(index_name)[0] is False
    ensure_hnsw_index(MODEL_KEY, 8)
    assert _index_state(index_name)[0] is True
