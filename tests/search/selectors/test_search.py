import numpy as np
import pytest

from search.errors import InvalidQuery
from search.imagefiles import load_image
from search.models import Image
from search.query import SearchRequest
from search.selectors.search import search_by_image, search_images
from search.selectors.vector import query_vector
from search.services.ingest import find_image_files, images_ingest
from search.vector_index import ensure_hnsw_index
from tests.factories import image_row, noise_image_bytes, unit_vector

pytestmark = pytest.mark.django_db


@pytest.fixture
def photos(tmp_path, encoder):
    for seed in range(12):
        (tmp_path / f"{seed}.png").write_bytes(noise_image_bytes(seed, fmt="PNG"))
    images_ingest(find_image_files(tmp_path), encoder=encoder)
    return tmp_path


@pytest.fixture
def vectors(encoder):
    """300 rows with random unit vectors of the encoder's model, 15 of them in a rare category."""
    ensure_hnsw_index(encoder.model_key, encoder.dim)
    rows = [
        image_row(
            vector=unit_vector(encoder.dim, seed),
            model_key=encoder.model_key,
            category="rare" if seed % 20 == 0 else "common",
        )
        for seed in range(300)
    ]
    return rows


def _ids(results):
    return [hit.id for hit in results.hits]


def test_exact_copy_of_an_indexed_image_comes_first_with_score_one(photos):
    results = search_by_image((photos / "7.png").read_bytes(), top_k=5)
    assert results.hits[0].original_name == "7.png"
    assert results.hits[0].score == pytest.approx(1.0, abs=1e-4)
    assert results.hits[1].score < results.hits[0].score


def test_hits_carry_urls_and_metadata(photos):
    hit = search_by_image((photos / "3.png").read_bytes(), top_k=1).hits[0]
    image = Image.objects.get(id=hit.id)
    assert hit.thumbnail_url == f"/images/{image.id}/thumbnail/"
    assert hit.url == f"/images/{image.id}/original/"
    assert (hit.width, hit.height, hit.category, hit.caption) == (96, 72, "", "")


def test_image_weight_moves_combined_results_between_text_and_image(photos, encoder):
    image = load_image((photos / "4.png").read_bytes(), max_pixels=10**8)
    text = "a large red circle"

    def combined(weight):
        return search_images(SearchRequest(text=text, image=image, image_weight=weight, top_k=12))

    text_only = search_images(SearchRequest(text=text, top_k=12))
    image_only = search_images(SearchRequest(image=image, top_k=12))
    assert _ids(combined(0.0)) == _ids(text_only)
    assert _ids(combined(1.0)) == _ids(image_only)
    own_scores = [
        next(hit.score for hit in combined(w).hits if hit.original_name == "4.png") for w in (0.0, 0.3, 0.6, 1.0)
    ]
    assert own_scores == sorted(own_scores)  # more image weight: closer to the image's own copy
    vector = query_vector(SearchRequest(text=text, image=image, image_weight=0.5), encoder)
    assert np.linalg.norm(vector) == pytest.approx(1.0, abs=1e-5)


def test_hnsw_results_equal_exact_results_on_a_small_collection(vectors, encoder):
    for seed in range(1000, 1010):
        query = unit_vector(encoder.dim, seed)
        approximate = Image.objects.nearest(query, model_key=encoder.model_key, limit=10, ef_search=100)
        exact = Image.objects.nearest(query, model_key=encoder.model_key, limit=10, exact=True)
        assert [i.id for i in approximate] == [i.id for i in exact]
        # The halfvec index (the default) compares the query rounded to 16 bits too: ~1e-4 off the exact scan's.
        assert [i.distance for i in approximate] == pytest.approx([i.distance for i in exact], abs=1e-3)


def test_query_plans_use_the_hnsw_index_unless_exact(vectors, encoder):
    from django.db import connection

    query = unit_vector(encoder.dim, 1)
    with connection.cursor() as cursor:
        cursor.execute("SET enable_seqscan = off")  # a 300-row table would otherwise be cheaper to scan
    for exact, index_expected in ((False, True), (True, False)):
        seen = []

        def capture(execute, sql, params, many, context, seen=seen):
            seen.append((sql, params))
            return execute(sql, params, many, context)

        with connection.execute_wrapper(capture):
            Image.objects.nearest(query, model_key=encoder.model_key, limit=5, exact=exact)
        sql, params = next((sql, params) for sql, params in seen if "<=>" in sql)
        with connection.cursor() as cursor:
            if exact:
                cursor.execute("SET enable_indexscan = off")
            cursor.execute("EXPLAIN " + sql, params)
            plan = "\n".join(row[0] for row in cursor.fetchall())
            cursor.execute("RESET enable_indexscan")
        assert ("search_image_hnsw_" in plan) is index_expected


def test_selective_category_filter_still_returns_top_k(vectors, encoder, settings):
    settings.SEARCH_EF_SEARCH = 10
    results = search_images(SearchRequest(text="anything", top_k=10, category="rare"))
    assert len(results.hits) == 10
    assert {hit.category for hit in results.hits} == {"rare"}
    exact = search_images(SearchRequest(text="anything", top_k=10, category="rare", exact=True))
    assert _ids(results) == _ids(exact)


def test_min_score_keeps_only_hits_at_or_above_it(vectors):
    everything = search_images(SearchRequest(text="a blue square", top_k=50, exact=True))
    threshold = everything.hits[9].score
    results = search_images(SearchRequest(text="a blue square", top_k=50, min_score=threshold, exact=True))
    assert _ids(results) == _ids(everything)[:10]
    assert all(hit.score >= threshold for hit in results.hits)


def test_hidden_images_are_never_returned(vectors):
    before = search_images(SearchRequest(text="a dog", top_k=5))
    Image.objects.filter(id=before.hits[0].id).update(hidden=True)
    after = search_images(SearchRequest(text="a dog", top_k=5))
    assert before.hits[0].id not in _ids(after)
    assert len(after.hits) == 5


def test_vectors_of_another_model_are_never_compared(encoder):
    ensure_hnsw_index(encoder.model_key, encoder.dim)
    target = encoder.encode_text(["a red circle"])[0]
    other = image_row(vector=target, model_key="SomeOtherModel:tag")  # would score 1.0 if it were compared
    mine = image_row(vector=unit_vector(encoder.dim, 3), model_key=encoder.model_key)
    results = search_images(SearchRequest(text="a red circle", top_k=10))
    assert _ids(results) == [mine.id]
    assert other.id not in _ids(results)


def test_excluded_ids_are_skipped(vectors):
    first = search_images(SearchRequest(text="a tree", top_k=3))
    second = search_images(SearchRequest(text="a tree", top_k=3, exclude_ids=_ids(first)))
    assert not set(_ids(first)) & set(_ids(second))


def test_search_runs_a_fixed_small_number_of_queries(vectors, django_assert_max_num_queries):
    with django_assert_max_num_queries(5):
        search_images(SearchRequest(text="a cat", top_k=24, category="common"))


@pytest.mark.parametrize(
    ("request_kwargs", "field"),
    [
        ({"text": "   "}, "query"),
        ({"text": "x" * 1001}, "query"),
        ({"text": "cat", "top_k": 0}, "top_k"),
        ({"text": "cat", "top_k": 101}, "top_k"),
        ({"text": "cat", "min_score": 1.5}, "min_score"),
        ({"text": "cat", "image_weight": -0.1}, "image_weight"),
    ],
)
def test_bad_queries_raise_one_clear_error(request_kwargs, field):
    with pytest.raises(InvalidQuery) as error:
        search_images(SearchRequest(**request_kwargs))
    assert error.value.field == field
    assert error.value.message


def test_unreadable_query_image_is_a_bad_query():
    with pytest.raises(InvalidQuery) as error:
        search_by_image(b"GIF89a but not really")
    assert error.value.field == "image"
