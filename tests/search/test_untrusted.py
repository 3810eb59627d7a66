"""Untrusted text and JSON: NUL bytes, unpaired surrogates and deep nesting are refused with the field named."""

import pytest

from search.errors import InvalidQuery
from search.untrusted import check_json_value, check_text, load_json


def test_ordinary_text_passes_unchanged():
    assert check_text("un chat rouge ☕", field="query") == "un chat rouge ☕"


@pytest.mark.parametrize(("text", "reason"), [("a\x00b", "NUL"), ("a\ud800b", "unpaired surrogate")])
def test_text_postgres_or_utf8_cannot_hold_is_refused(text, reason):
    with pytest.raises(InvalidQuery, match=reason) as error:
        check_text(text, field="feedback")
    assert error.value.field == "feedback"


def test_depth_is_counted_and_limited_without_recursion():
    check_json_value({"a": [{"b": 1}]}, max_depth=3)
    with pytest.raises(InvalidQuery, match="nested more than 3 levels"):
        check_json_value({"a": [{"b": [1]}]}, max_depth=3)
    deep: list = []
    for _ in range(100_000):  # far deeper than Python's recursion limit
        deep = [deep]
    with pytest.raises(InvalidQuery, match="nested"):
        check_json_value(deep, max_depth=8)


def test_keys_are_checked_like_values():
    with pytest.raises(InvalidQuery, match="NUL"):
        check_json_value({"bad\x00key": 1}, max_depth=8)


@pytest.mark.parametrize(
    ("text", "reason"),
    [("{not json", "not valid JSON"), ("[" * 5000 + "]" * 5000, "nested"), ('{"q": "\\u0000"}', "NUL")],
)
def test_load_json_refuses_what_it_cannot_take(text, reason):
    with pytest.raises(InvalidQuery, match=reason):
        load_json(text, max_depth=8)
