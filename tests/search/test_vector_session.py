import numpy as np
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from search.models import Image
from search.selectors.vector import HIT_FIELDS
from search.vector_session import QueryVector
from tests.factories import image_row, unit_vector

MODEL_KEY = "test-session:8"


@pytest.fixture
def rows():
    vectors = [unit_vector(8, seed) for seed in range(20)]
    for vector in vectors:
        image_row(vector=vector, model_key=MODEL_KEY, caption_embedding=vector, caption_embedding_model=MODEL_KEY)
    return np.stack(vectors)


def _search(ef_search: int = 40):
    return Image.objects.only(*HIT_FIELDS).nearest(
        unit_vector(8, 99), model_key=MODEL_KEY, limit=5, ef_search=ef_search
    )


@pytest.mark.django_db(transaction=True)
def test_outside_a_transaction_a_search_is_one_statement_once_the_connection_has_its_settings(rows):
    _search()  # the first search on this connection sets ef_search for the session
    with CaptureQueriesContext(connection) as queries:
        _search()
    assert len(queries) == 1 and queries[0]["sql"].startswith("SELECT")
    with connection.cursor() as cursor:
        cursor.execute("SHOW hnsw.ef_search")
        assert cursor.fetchone()[0] == "40"
    with CaptureQueriesContext(connection) as queries:
        _search(ef_search=60)  # another candidate list: set again, once
        _search(ef_search=60)
    assert len(queries) == 3 and "set_config" in queries[0]["sql"]


@pytest.mark.django_db
def test_inside_a_transaction_the_settings_are_the_transactions_own(rows):
    with CaptureQueriesContext(connection) as queries:
        _search(ef_search=33)
    assert len(queries) == 2 and "set_config" in queries[0]["sql"] and ", true)" in queries[0]["sql"]
    with connection.cursor() as cursor:
        cursor.execute("SHOW hnsw.ef_search")
        assert cursor.fetchone()[0] == "33"


@pytest.mark.django_db
def test_a_hit_reads_only_its_own_columns_and_the_distance_is_right(rows):
    query = unit_vector(8, 99)
    with CaptureQueriesContext(connection) as queries:
        found = Image.objects.only(*HIT_FIELDS).nearest(query, model_key=MODEL_KEY, limit=5, exact=True)
    (select,) = [query["sql"] for query in queries if '"distance"' in query["sql"]]
    columns = select[: select.index(" FROM ")]
    assert '"caption_embedding"' not in columns and '"file"' not in columns and '"caption"' in columns
    assert "$1::vector" in select  # bound by the server, sent in binary
    expected = np.sort(1.0 - rows @ query)[:5]  # the rows as the encoder made them, stored at half precision
    assert [image.distance for image in found] == pytest.approx(expected.tolist(), abs=1e-3)
    assert found[0].get_deferred_fields() >= {"caption_embedding", "file"}


def test_the_binary_parameter_is_pgvectors_wire_format():
    values = np.array([1.0, -2.5, 0.125], dtype=np.float32)
    assert QueryVector(values).binary() == b"\x00\x03\x00\x00" + values.astype(">f4").tobytes()
    assert QueryVector(values, "halfvec").binary() == b"\x00\x03\x00\x00" + values.astype(">f2").tobytes()
    assert QueryVector(values).text() == b"[1.0,-2.5,0.125]"
