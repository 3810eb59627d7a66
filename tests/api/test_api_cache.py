"""The text-vector and result caches of POST /api/search/, and that search answers when the cache is down."""

import pytest

from search import query_cache
from search.models import Image

pytestmark = pytest.mark.django_db

DEAD_REDIS = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": "redis://127.0.0.1:1/0",
        "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 0.5},
    }
}


def search(api, query="a red circle", **extra):
    response = api.post("/api/search/", {"query": query, "top_k": 5, **extra}, format="json")
    assert response.status_code == 200, response.content
    return response.json()


def test_a_repeated_text_query_is_answered_from_the_result_cache(api, rows):
    first = search(api)
    second = search(api)
    assert (first["cached"], second["cached"]) == (False, True)
    assert second["results"] == first["results"]
    assert second["latency_ms"]["encode"] == 0.0


def test_the_cache_key_normalises_whitespace_but_not_options(api, rows):
    search(api, "a red   circle")
    assert search(api, "  a red circle ")["cached"] is True
    assert search(api, "a red circle", min_score=0.1)["cached"] is False
    assert search(api, "a red circle", filters={"category": "rare"})["cached"] is False


def test_a_result_page_miss_reuses_the_cached_text_vector(api, rows, encoder, monkeypatch, settings):
    settings.API_RESULT_CACHE_SECONDS = 0
    search(api)
    calls = []
    original = type(encoder).encode_text
    monkeypatch.setattr(type(encoder), "encode_text", lambda self, texts: calls.append(texts) or original(self, texts))
    again = search(api)
    assert again["cached"] is False
    assert calls == []


def test_users_share_cached_results_but_cached_pages_expire(api, other_api, rows, settings):
    search(api)
    assert search(other_api)["cached"] is True
    settings.API_RESULT_CACHE_SECONDS = 0
    assert search(other_api, "another query")["cached"] is False


def test_search_fails_open_when_the_cache_backend_is_down(api, rows, settings, caplog):
    settings.CACHES = DEAD_REDIS
    first = search(api)
    second = search(api)
    assert first["total"] == second["total"] == 5
    assert (first["cached"], second["cached"]) == (False, False)
    assert "Cache read failed" in caplog.text


def test_throttles_and_encoding_fail_open_too(api, settings):
    settings.CACHES = DEAD_REDIS
    response = api.post("/api/encode/text/", {"text": "a red circle"}, format="json")
    assert response.status_code == 200


def test_cached_pages_still_hide_images_hidden_after_the_ttl(api, rows, settings):
    settings.API_RESULT_CACHE_SECONDS = 0
    first = search(api)
    Image.objects.filter(id=first["results"][0]["id"]).update(hidden=True)
    assert first["results"][0]["id"] not in [hit["id"] for hit in search(api)["results"]]


def test_normalise_text():
    assert query_cache.normalise_text("  A\tred\n circle ") == "A red circle"
