"""DuckDuckGo image search: cached per query, backed off on rate limits, failures reported as such."""

import pytest
from ddgs.exceptions import DDGSException, RatelimitException, TimeoutException

from search.webfetch import ddg

pytestmark = pytest.mark.usefixtures("background_settings", "caption_requests")


def test_results_are_cached_per_query(fake_search):
    fake_search.urls = ["https://example.com/a.jpg", "https://example.com/b.jpg"]
    first = ddg.image_search("red pandas", max_results=5)
    second = ddg.image_search("red pandas", max_results=5)
    ddg.image_search("blue whales", max_results=5)
    assert (
        first
        == second
        == [
            ddg.ImageResult("https://example.com/a.jpg", "result 0"),
            ddg.ImageResult("https://example.com/b.jpg", "result 1"),
        ]
    )
    assert [query for query, _ in fake_search.calls] == ["red pandas", "blue whales"]


def test_repeats_and_non_web_urls_are_dropped(fake_search):
    fake_search.urls = ["https://e.com/a.jpg", "data:image/png;base64,AAAA", "https://e.com/a.jpg", "ftp://e.com/b.jpg"]
    assert [r.url for r in ddg.image_search("x", max_results=10)] == ["https://e.com/a.jpg"]


def test_a_rate_limit_is_retried_with_backoff(fake_search, settings, monkeypatch):
    settings.DDG_RETRIES = 3
    settings.DDG_BACKOFF_SECONDS = 0.5
    sleeps = []
    monkeypatch.setattr(ddg.time, "sleep", sleeps.append)
    fake_search.urls = ["https://e.com/a.jpg"]
    fake_search.failures = [RatelimitException("202 Ratelimit"), RatelimitException("202 Ratelimit")]
    assert len(ddg.image_search("x", max_results=3)) == 1
    assert sleeps == [0.5, 1.0]


def test_a_lasting_rate_limit_is_reported_as_one(fake_search, settings, monkeypatch):
    settings.DDG_RETRIES = 2
    monkeypatch.setattr(ddg.time, "sleep", lambda seconds: None)
    fake_search.failures = [RatelimitException("202 Ratelimit")] * 3
    with pytest.raises(ddg.SearchRateLimited, match="rate-limiting image searches \\(refused 3 times\\)"):
        ddg.image_search("x", max_results=3)
    assert len(fake_search.calls) == 3  # bounded: one try and two retries


def test_timeouts_and_other_failures_are_search_failures(fake_search, settings):
    settings.DDG_RETRIES = 1
    fake_search.failures = [TimeoutException("slow"), TimeoutException("slow")]
    with pytest.raises(ddg.SearchFailed, match="did not answer in time"):
        ddg.image_search("x", max_results=3)
    fake_search.failures = [DDGSException("No results found.")]
    with pytest.raises(ddg.SearchFailed, match="No results found"):
        ddg.image_search("y", max_results=3)


def test_failures_are_not_cached(fake_search, settings):
    settings.DDG_RETRIES = 0
    fake_search.failures = [RatelimitException("202 Ratelimit")]
    with pytest.raises(ddg.SearchRateLimited):
        ddg.image_search("x", max_results=3)
    fake_search.urls = ["https://e.com/a.jpg"]
    assert len(ddg.image_search("x", max_results=3)) == 1
