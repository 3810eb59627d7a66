"""The hot-path benchmark's raw SQL runs beside the product's searches without changing their HNSW settings."""

import numpy as np
import pytest
from django.db import connection

from search.lab.speed import hotpath
from search.vector_index import BIT, ensure_hnsw_index
from tests.factories import image_row, unit_vector

MODEL_KEY = "simulated:hotpath-test"


@pytest.mark.django_db(transaction=True)  # session-level settings, as on a pooled connection outside a transaction
def test_searches_after_the_raw_cursor_run_with_the_settings_the_product_asks_for(settings):
    settings.VECTOR_INDEX = BIT
    settings.SEARCH_BIT_CANDIDATES = 30
    for seed in range(40):
        image_row(vector=unit_vector(16, seed), model_key=MODEL_KEY)
    ensure_hnsw_index(MODEL_KEY, 16, kind=BIT)
    queries = np.stack([unit_vector(16, 100 + seed) for seed in range(3)])
    latency = hotpath.sql_comparison(MODEL_KEY, queries, k=5, ef_search=8)
    assert set(latency) >= {"raw SQL: the same SELECT, a psycopg cursor on the same open connection"}
    with connection.cursor() as cursor:
        cursor.execute("SHOW hnsw.ef_search")
        assert cursor.fetchone()[0] == "30"  # the bit path's candidates, never a value the benchmark set
