"""ImageQuerySet.nearest over each index kind (search.vector_index): the same answers, the kind's own index used."""

import numpy as np
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from search.models import Image
from search.vector_index import BIT, HALFVEC, INDEX_KINDS, VECTOR, ensure_hnsw_index, hnsw_index_name
from search.vector_session import search_cursor
from tests.factories import image_row, unit_vector

pytestmark = pytest.mark.django_db

MODEL_KEY = "test-kinds:64"
DIM = 64


@pytest.fixture
def rows():
    vectors = np.stack([unit_vector(DIM, seed) for seed in range(60)])
    for vector in vectors:
        image_row(vector=vector, model_key=MODEL_KEY)
    for kind in INDEX_KINDS:
        ensure_hnsw_index(MODEL_KEY, DIM, kind=kind)
    return vectors


def _half(vectors: np.ndarray) -> np.ndarray:
    return vectors.astype(np.float16).astype(np.float32)


def _exact_order(rows: np.ndarray, query: np.ndarray, k: int) -> list[float]:
    """The k smallest cosine distances (rounded to 16 bits, the vectors are no longer exactly unit-length)."""
    cosine = (rows @ query) / (np.linalg.norm(rows, axis=1) * np.linalg.norm(query))
    return np.sort(1.0 - cosine)[:k].tolist()


@pytest.mark.parametrize("kind", [VECTOR, HALFVEC, BIT])
def test_every_kind_finds_the_nearest_rows_with_their_exact_cosine_distance(rows, kind):
    query = unit_vector(DIM, 1234)
    found = Image.objects.nearest(query, model_key=MODEL_KEY, limit=5, ef_search=100, index=kind, candidates=60)
    distances = [image.distance for image in found]
    # Exact for the vectors as stored (16-bit) and as sent (16-bit but for the `vector` kind's comparisons) ...
    sent = query if kind == VECTOR else _half(query)
    assert distances == pytest.approx(_exact_order(_half(rows), sent, 5), abs=1e-6)
    # ... and within half precision of the float32 vectors the encoder made.
    assert distances == pytest.approx(_exact_order(rows, query, 5), abs=2e-3)


def test_the_bit_kind_reranks_its_candidates_by_the_full_vectors(rows):
    query = unit_vector(DIM, 99)
    few = Image.objects.nearest(query, model_key=MODEL_KEY, limit=3, index=BIT, candidates=3)
    assert [image.distance for image in few] == sorted(image.distance for image in few)
    assert len(few) == 3


@pytest.mark.parametrize("kind", [VECTOR, HALFVEC, BIT])
def test_the_planner_uses_the_kinds_own_index(rows, kind):
    statements = []

    def record(execute, sql, params, many, context):
        statements.append((sql, params))
        return execute(sql, params, many, context)

    with connection.execute_wrapper(record):
        Image.objects.nearest(unit_vector(DIM, 7), model_key=MODEL_KEY, limit=5, index=kind)
    sql, params = next((sql, params) for sql, params in statements if '"distance"' in sql)
    with search_cursor(connection) as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")  # 60 rows: price sequential scans out
        cursor.execute(f"EXPLAIN {sql}", params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert hnsw_index_name(MODEL_KEY, kind=kind) + " " in plan + " "
    if kind == BIT:  # the re-rank reads full vectors, never through a full-precision index
        assert hnsw_index_name(MODEL_KEY, kind=VECTOR) + " " not in plan + " "


def test_the_setting_chooses_the_kind(rows, settings):
    settings.VECTOR_INDEX = BIT
    with CaptureQueriesContext(connection) as queries:
        Image.objects.nearest(unit_vector(DIM, 7), model_key=MODEL_KEY, limit=5)
    assert any("binary_quantize" in q["sql"] and "<~>" in q["sql"] for q in queries)
    settings.VECTOR_INDEX = VECTOR
    with CaptureQueriesContext(connection) as queries:
        Image.objects.nearest(unit_vector(DIM, 7), model_key=MODEL_KEY, limit=5)
    assert not any("binary_quantize" in q["sql"] for q in queries)


@pytest.mark.parametrize("kind", [VECTOR, BIT])
def test_keyset_pages_follow_each_other_with_every_kind(rows, kind):
    query = unit_vector(DIM, 5)
    pages, after = [], None
    for _ in range(3):
        page = Image.objects.nearest(query, model_key=MODEL_KEY, limit=5, ef_search=100, index=kind, after=after)
        pages.extend(page)
        after = (page[-1].distance, page[-1].id)
    assert len({image.id for image in pages}) == 15
    sent = query if kind == VECTOR else _half(query)
    assert [image.distance for image in pages] == pytest.approx(_exact_order(_half(rows), sent, 15), abs=1e-6)


@pytest.mark.parametrize("kind", [VECTOR, HALFVEC, BIT])
def test_nearest_visible_reuses_its_compiled_statement_with_each_new_vector(rows, kind, settings):
    from search.models import _visible_statement

    settings.VECTOR_INDEX = kind
    fields = ("id", "caption")
    for seed in (11, 12):
        query = unit_vector(DIM, seed)
        lean = Image.objects.nearest_visible(query, model_key=MODEL_KEY, limit=5, ef_search=100, fields=fields)
        general = Image.objects.only(*fields).nearest(query, model_key=MODEL_KEY, limit=5, ef_search=100)
        assert [(image.id, image.distance) for image in lean] == [(image.id, image.distance) for image in general]
        assert lean[0].get_deferred_fields() >= {"file", "caption_embedding"}
        assert "vector" not in lean[0]._state.fields_cache  # the join filters and ranks; no vector comes back
    before = _visible_statement.cache_info()
    Image.objects.nearest_visible(unit_vector(DIM, 13), model_key=MODEL_KEY, limit=5, ef_search=100, fields=fields)
    after = _visible_statement.cache_info()
    assert (after.hits, after.misses) == (before.hits + 1, before.misses)
    assert (
        Image.objects.nearest_visible(
            unit_vector(DIM, 13), model_key=MODEL_KEY, limit=5, ef_search=100, fields=fields, category="none-such"
        )
        == []
    )


def test_nearest_visible_leaves_hidden_images_out_with_every_kind(rows, settings):
    query = unit_vector(DIM, 21)
    nearest = Image.objects.nearest(query, model_key=MODEL_KEY, limit=1, ef_search=100)[0]
    Image.objects.filter(id=nearest.id).update(hidden=True)
    for kind in INDEX_KINDS:
        settings.VECTOR_INDEX = kind
        found = Image.objects.nearest_visible(query, model_key=MODEL_KEY, limit=5, ef_search=100, fields=("id",))
        assert len(found) == 5 and nearest.id not in {image.id for image in found}


def test_the_bit_re_rank_reads_each_candidate_once(rows):
    """Each candidate's image row is fetched once, by the join that filters the shortlist (the vector table's index
    scan finds it): no second fetch of every candidate by its id for the re-rank."""
    statements = []

    def record(execute, sql, params, many, context):
        statements.append((sql, params))
        return execute(sql, params, many, context)

    with connection.execute_wrapper(record):
        Image.objects.nearest(unit_vector(DIM, 8), model_key=MODEL_KEY, limit=5, index=BIT, candidates=20)
    sql, params = next((sql, params) for sql, params in statements if '"distance"' in sql)
    with search_cursor(connection) as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute(f"EXPLAIN {sql}", params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert hnsw_index_name(MODEL_KEY, kind=BIT) + " " in plan + " "
    assert plan.count("search_image_pkey") == 1 and plan.count("Nested Loop") == 1 and "Join" not in plan
