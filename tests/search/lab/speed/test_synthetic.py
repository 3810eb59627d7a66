import numpy as np
import pytest
from django.db import connection

from search.lab.speed.synthetic import (
    CATEGORY_1PCT,
    CATEGORY_10PCT,
    VectorSpace,
    build_index,
    drop_simulated,
    exact_neighbours,
    row_number,
    simulate_images,
)
from search.models import Image
from search.vector_index import hnsw_index_name

pytestmark = pytest.mark.django_db

SPACE = VectorSpace(dim=16, clusters=5, seed=3)
KEY = "simulated:test"


def test_simulate_inserts_the_rows_it_says_with_the_generated_vectors():
    inserted = simulate_images(SPACE, count=250, model_key=KEY, batch_size=100)
    rows = Image.objects.filter(vector__embedding_model=KEY)
    assert inserted == 250 and rows.count() == 250
    image = rows.get(original_name="sim-137.jpg")
    stored = SPACE.rows(137, 138)[0].astype(np.float16)  # the column's half precision, nothing lost on the way
    np.testing.assert_array_equal(np.asarray(image.vector.embedding, dtype=np.float16), stored)
    assert row_number(image) == 137


def test_categories_have_the_stated_selectivity():
    simulate_images(SPACE, count=1000, model_key=KEY)
    rows = Image.objects.filter(vector__embedding_model=KEY)
    assert rows.filter(category=CATEGORY_1PCT).count() == 10
    assert rows.filter(category=CATEGORY_10PCT).count() == 100


def test_simulate_tops_up_and_batching_does_not_change_the_vectors():
    simulate_images(SPACE, count=120, model_key=KEY, batch_size=7)
    assert simulate_images(SPACE, count=150, model_key=KEY, batch_size=50) == 30
    assert Image.objects.filter(vector__embedding_model=KEY).count() == 150
    np.testing.assert_allclose(SPACE.rows(140, 150), SPACE.rows(0, 150)[140:], atol=0)


def test_vectors_are_unit_and_clustered():
    vectors = SPACE.rows(0, 2000)
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    centres, _ = SPACE.centres()
    assert (vectors @ centres.T).max(axis=1).mean() > 0.5  # each point lies near one centre


def test_simulated_rows_need_their_own_model_key():
    with pytest.raises(ValueError):
        simulate_images(SPACE, count=10, model_key="ViT-B-32:laion2b_s34b_b79k")


def test_exact_neighbours_agree_with_exact_search_in_the_database():
    simulate_images(SPACE, count=300, model_key=KEY)
    queries = SPACE.queries(3)
    expected = exact_neighbours(SPACE, queries, count=300, k=5)
    for query, rows in zip(queries, expected, strict=True):
        found = Image.objects.nearest(query, model_key=KEY, limit=5, exact=True)
        assert [row_number(image) for image in found] == rows.tolist()


def test_filtered_exact_neighbours_stay_in_the_category():
    expected = exact_neighbours(SPACE, SPACE.queries(2), count=1000, k=5, category=CATEGORY_10PCT)
    assert all(row % 10 == 1 for row in expected.ravel())


@pytest.mark.parametrize("halfvec", [False, True])
def test_index_build_reports_size_and_nearest_uses_it(halfvec):
    simulate_images(SPACE, count=300, model_key=KEY)
    build = build_index(KEY, SPACE.dim, halfvec=halfvec, maintenance_work_mem="64MB")
    assert build.name == hnsw_index_name(KEY, halfvec=halfvec) and build.bytes > 0
    query = SPACE.queries(1)[0]
    with connection.cursor() as cursor:
        cursor.execute("SET enable_seqscan = off")
    approximate = Image.objects.nearest(query, model_key=KEY, limit=10, ef_search=200, halfvec=halfvec)
    exact = exact_neighbours(SPACE, query[None], count=300, k=10)[0]
    assert len(set(row_number(image) for image in approximate) & set(exact.tolist())) >= 9


def test_drop_removes_rows_and_indexes():
    simulate_images(SPACE, count=50, model_key=KEY)
    build_index(KEY, SPACE.dim, maintenance_work_mem="64MB")
    assert drop_simulated(KEY) == 50
    with connection.cursor() as cursor:
        cursor.execute("SELECT to_regclass(%s)", [hnsw_index_name(KEY)])
        assert cursor.fetchone()[0] is None
    with pytest.raises(ValueError):
        drop_simulated("imagesearch-tiny:random-seed0")
