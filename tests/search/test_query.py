"""The query value objects: every value the domain refuses is refused when the object is made, naming the field."""

import pytest

from search.errors import InvalidQuery
from search.query import MAX_JUDGED_PER_TURN, SearchRequest, SearchScope, TurnRequest, load_upload
from tests.factories import image_bytes, png_bomb_bytes


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({}, "query"),
        ({"text": "   "}, "query"),
        ({"text": "x" * 1001}, "query"),
        ({"text": "red\x00circle"}, "query"),
        ({"text": "red \ud800 circle"}, "query"),
        ({"text": "red", "top_k": 0}, "top_k"),
        ({"text": "red", "top_k": 101}, "top_k"),
        ({"text": "red", "top_k": True}, "top_k"),
        ({"text": "red", "min_score": 1.5}, "min_score"),
        ({"text": "red", "image_weight": -0.1}, "image_weight"),
        ({"text": "red", "image_weight": "half"}, "image_weight"),
        ({"text": "red", "mode": "semantic"}, "mode"),
    ],
)
def test_a_search_request_is_refused_when_made(fields, field):
    with pytest.raises(InvalidQuery) as error:
        SearchRequest(**fields)
    assert error.value.field == field


def test_a_search_request_carries_its_scope():
    request = SearchRequest(text="a red circle", top_k=5, category="shapes", exclude_ids=(3,), min_score=0.2)
    assert request.scope == SearchScope(top_k=5, category="shapes", exclude_ids=(3,), min_score=0.2)


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"text": 3}, "text"),
        ({"feedback": ["more red"]}, "feedback"),
        ({"feedback": "red\x00"}, "feedback"),
        ({"relevant_ids": "1,2"}, "relevant_ids"),
        ({"relevant_ids": [1.5]}, "relevant_ids"),
        ({"relevant_ids": [True]}, "relevant_ids"),
        ({"not_relevant_ids": [-4]}, "not_relevant_ids"),
        ({"relevant_ids": [2**63]}, "relevant_ids"),
        ({"relevant_ids": [1], "not_relevant_ids": [1]}, "relevant_ids"),
        ({"relevant_ids": list(range(1, MAX_JUDGED_PER_TURN + 2))}, "relevant_ids"),
        ({"more_like_image_id": "seven"}, "more_like_image_id"),
        ({"top_k": "10"}, "top_k"),
        ({"image_weight": True}, "image_weight"),
        ({"weights": [1, 2]}, "weights"),
        ({"client_key": "has spaces"}, "key"),
        ({"client_key": "k" * 65}, "key"),
        ({"client_key": 12}, "key"),
    ],
)
def test_a_turn_request_checks_types_and_values(fields, field):
    with pytest.raises(InvalidQuery) as error:
        TurnRequest(**fields)
    assert error.value.field == field


def test_a_turn_request_normalises_what_it_keeps():
    turn = TurnRequest(text="  a red circle ", relevant_ids=[3, "4", 3], more_like_image_id=9.0, client_key="abc-1")
    assert (turn.text, turn.relevant_ids, turn.more_like_image_id) == ("a red circle", (3, 4), 9)
    assert turn.starts_query and turn.judged


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"", "empty"),
        (image_bytes(fmt="BMP"), "use JPEG, PNG, WebP, GIF, HEIC or AVIF"),
        (png_bomb_bytes(), "decompression bomb"),
        (b"%PDF-1.4", "not an image"),
    ],
)
def test_uploads_are_checked_by_content(data, reason):
    with pytest.raises(InvalidQuery, match=reason) as error:
        load_upload(data)
    assert error.value.field == "image"


def test_an_upload_over_the_limit_is_refused_before_decoding(settings):
    settings.UPLOAD_MAX_BYTES = 10
    with pytest.raises(InvalidQuery, match="the limit is 10"):
        load_upload(image_bytes())
