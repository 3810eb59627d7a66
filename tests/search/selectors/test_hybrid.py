import numpy as np
import pytest
from django.db import connection

from search.errors import InvalidQuery
from search.models import Image
from search.query import SearchRequest
from search.selectors.hybrid import parse_query, reciprocal_rank_fusion, text_search_query
from search.selectors.search import search_images
from tests.factories import image_row, unit_vector

pytestmark = pytest.mark.django_db


@pytest.fixture
def query_vector(encoder):
    return encoder.encode_text(["zebra"])[0]


def row(encoder, vector, caption, **fields):
    return image_row(vector=vector, model_key=encoder.model_key, caption=caption, **fields)


def away_from(vector, seed):
    """A unit vector with a negative cosine to `vector`: last in any vector ranking for that query."""
    other = unit_vector(len(vector), seed)
    other = other - 1.5 * vector
    return (other / np.linalg.norm(other)).astype(np.float32)


def ids(results):
    return [hit.id for hit in results.hits]


def test_hybrid_finds_an_image_by_a_word_only_its_caption_contains(encoder, query_vector):
    for seed in range(30):
        row(encoder, unit_vector(encoder.dim, seed), "a photo of something")
    zebra = row(encoder, away_from(query_vector, 99), "a zebra crossing in town")

    vector_only = search_images(SearchRequest(text="zebra", top_k=5), encoder=encoder)
    hybrid = search_images(SearchRequest(text="zebra", top_k=5, mode="hybrid"), encoder=encoder)

    assert zebra.id not in ids(vector_only)
    assert ids(hybrid)[0] == zebra.id
    assert set(hybrid.timings_ms) >= {"encode", "search", "text", "fuse", "total"}


def test_fusion_order_on_hand_written_captions(encoder, query_vector, settings):
    both = row(encoder, query_vector, "a zebra")  # first by vector and by text
    text_only = row(encoder, away_from(query_vector, 1), "zebra zebra herd")
    vector_only = row(encoder, query_vector * 0.9 + unit_vector(encoder.dim, 2) * 0.1, "a horse")
    nothing = row(encoder, away_from(query_vector, 3), "a car")

    hybrid = search_images(SearchRequest(text="zebra", top_k=4, mode="hybrid", exact=True), encoder=encoder)

    # Vector ranks: both 1, vector_only 2, the other two 3-4. Text ranks (ts_rank counts repeats): text_only 1,
    # both 2. RRF with k=60: both 1/61+1/62 > text_only 1/61+1/(60+3|4) > vector_only 1/62 > nothing.
    assert ids(hybrid) == [both.id, text_only.id, vector_only.id, nothing.id]
    assert hybrid.hits[0].score == pytest.approx((1 / 61 + 1 / 62) / (2 / 61), abs=1e-5)


def test_weights_come_from_settings(encoder, query_vector, settings):
    settings.HYBRID_TEXT_WEIGHT = 0.0
    near = row(encoder, query_vector, "a horse")
    row(encoder, away_from(query_vector, 1), "zebra")

    hybrid = search_images(SearchRequest(text="zebra", top_k=2, mode="hybrid", exact=True), encoder=encoder)
    vector = search_images(SearchRequest(text="zebra", top_k=2, exact=True), encoder=encoder)

    assert ids(hybrid) == ids(vector)
    assert ids(hybrid)[0] == near.id


def test_reciprocal_rank_fusion():
    fused = reciprocal_rank_fusion([(1.0, [1, 2, 3]), (2.0, [3, 4])], k=60)

    assert [image_id for image_id, _ in fused] == [3, 4, 1, 2]
    assert fused[0][1] == pytest.approx((1 / 63 + 2 / 61) / (3 / 61))


def test_quoted_words_must_match_literally(encoder, query_vector):
    sign = row(encoder, away_from(query_vector, 1), "a green sign saying EXIT above a door")
    exits = row(encoder, query_vector, "the exits of a building")  # same stem, other word
    row(encoder, query_vector, "a sign in a park")

    quoted = search_images(SearchRequest(text='a sign saying "EXIT"', top_k=10, mode="hybrid"), encoder=encoder)
    unquoted = search_images(SearchRequest(text="sign exit", top_k=10, mode="hybrid"), encoder=encoder)

    assert ids(quoted) == [sign.id]
    assert {sign.id, exits.id} <= set(ids(unquoted))


def test_quoted_phrases_keep_word_order(encoder, query_vector):
    row(encoder, query_vector, "exit sign")
    right = row(encoder, query_vector, "a sign exit")

    results = search_images(SearchRequest(text='"sign exit"', top_k=10, mode="hybrid"), encoder=encoder)

    assert ids(results) == [right.id]


def test_file_names_and_categories_are_searched_too(encoder, query_vector):
    named = row(encoder, away_from(query_vector, 1), "", original_name="zebra crossing.jpg")
    filed = row(encoder, away_from(query_vector, 2), "", category="zebra")

    results = search_images(SearchRequest(text='"zebra"', top_k=10, mode="hybrid"), encoder=encoder)

    assert set(ids(results)) == {named.id, filed.id}


def test_filters_apply_to_both_rankings(encoder, query_vector):
    row(encoder, query_vector, "a zebra", category="wild", hidden=True)
    kept = row(encoder, query_vector, "a zebra", category="zoo")
    row(encoder, query_vector, "a zebra", category="wild")

    results = search_images(SearchRequest(text="zebra", top_k=10, mode="hybrid", category="zoo"), encoder=encoder)

    assert ids(results) == [kept.id]


def test_the_full_text_query_uses_the_gin_index(encoder):
    for seed in range(50):
        row(encoder, unit_vector(encoder.dim, seed), f"caption number {seed}")
    query = text_search_query(parse_query('zebra "exit"'))

    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")  # a 50-row table is cheaper to scan than to index
    plan = Image.objects.all().text_matches(query).explain()

    assert "image_text_gin" in plan


def test_an_unknown_mode_is_refused(encoder):
    with pytest.raises(InvalidQuery) as refused:
        search_images(SearchRequest(text="zebra", mode="keyword"), encoder=encoder)
    assert refused.value.field == "mode"


def test_image_only_queries_work_in_hybrid_mode(encoder):
    from search.query import load_upload
    from tests.factories import image_bytes

    row(encoder, unit_vector(encoder.dim, 1), "a zebra")
    loaded = load_upload(image_bytes("red"))

    results = search_images(SearchRequest(image=loaded, top_k=3, mode="hybrid"), encoder=encoder)

    assert len(results.hits) == 1


def test_parse_query():
    parsed = parse_query('a sign saying "EXIT" and “no entry”')

    assert parsed.words == ["a", "sign", "saying", "and"]
    assert parsed.phrases == [["EXIT"], ["no", "entry"]]
