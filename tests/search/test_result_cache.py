"""The text-vector and result caches of POST /api/search/, that a curator's edit reaches cached result pages at once,
and that search answers when the cache is down."""

import pytest
from django.core.cache import cache

from search import result_cache
from search.models import Image
from search.services.curation import image_caption_edit, images_set_category, images_set_hidden
from search.services.images import image_delete

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("private_cache")]

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


def test_a_miss_reads_page_and_text_vector_together_and_writes_them_together(api, rows, encoder, monkeypatch):
    calls = []
    for name in ("cache_get", "cache_get_many", "cache_set", "cache_set_each"):
        original = getattr(result_cache, name)
        monkeypatch.setattr(result_cache, name, lambda *a, _o=original, _n=name: calls.append(_n) or _o(*a))
    search(api, "a blue square")
    assert calls == ["cache_get_many", "cache_set_each"]  # two round trips to Redis on a miss
    calls.clear()
    encoded = []
    original_encode = type(encoder).encode_text
    monkeypatch.setattr(type(encoder), "encode_text", lambda self, t: encoded.append(t) or original_encode(self, t))
    assert search(api, "a blue  square", min_score=0.0)["cached"] is False  # another page, the same text
    assert calls == ["cache_get_many", "cache_set_each"] and encoded == []  # its vector came with the page read


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


def ids(page: dict) -> list[int]:
    return [hit["id"] for hit in page["results"]]


def test_hiding_an_image_drops_it_from_an_already_cached_page(api, rows, django_capture_on_commit_callbacks):
    first = search(api)
    assert search(api)["cached"] is True
    top = first["results"][0]["id"]
    with django_capture_on_commit_callbacks(execute=True):
        images_set_hidden(image_ids=[top], hidden=True)
    after = search(api)
    assert after["cached"] is False
    assert top not in ids(after)
    assert search(api)["cached"] is True  # the new page is cached in its turn


def test_deleting_an_image_drops_it_from_an_already_cached_page(api, rows, django_capture_on_commit_callbacks):
    top = search(api)["results"][0]["id"]
    with django_capture_on_commit_callbacks(execute=True):
        image_delete(image=Image.objects.get(id=top))
    assert top not in ids(search(api))


def test_a_new_category_or_caption_shows_in_the_next_search(api, rows, django_capture_on_commit_callbacks):
    rare = search(api, filters={"category": "rare"})
    top = rare["results"][0]["id"]
    with django_capture_on_commit_callbacks(execute=True):
        images_set_category(image_ids=[top], category="common")
    assert top not in ids(search(api, filters={"category": "rare"}))
    image = Image.objects.get(id=search(api)["results"][0]["id"])
    with django_capture_on_commit_callbacks(execute=True):
        image_caption_edit(image=image, caption="a curated caption", user=None)
    assert search(api)["results"][0]["caption"] == "a curated caption"


def test_the_version_is_bumped_on_commit_not_before(api, rows, django_capture_on_commit_callbacks):
    search(api)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:  # never committed
        images_set_hidden(image_ids=[rows[0].id], hidden=True)
    assert len(callbacks) == 1
    assert search(api)["cached"] is True


def test_a_lost_collection_version_never_revives_older_pages(api, rows):
    search(api)
    cache.delete(result_cache.COLLECTION_VERSION_KEY)  # evicted or flushed: edits made meanwhile went unrecorded
    assert search(api)["cached"] is False
    assert search(api)["cached"] is True


def test_curation_works_when_the_cache_is_down(api, rows, settings, caplog, django_capture_on_commit_callbacks):
    settings.CACHES = DEAD_REDIS
    with django_capture_on_commit_callbacks(execute=True):
        assert images_set_hidden(image_ids=[rows[0].id], hidden=True) == [rows[0].id]
    assert "Collection version not bumped" in caplog.text
    assert rows[0].id not in ids(search(api, top_k=60))


def test_normalise_text():
    assert result_cache.normalise_text("  A\tred\n circle ") == "A red circle"


def test_hits_and_misses_are_counted_for_the_metrics(api, rows):
    from imagesearch.metrics import RESULT_CACHE_HITS, RESULT_CACHE_MISSES

    hits, misses = RESULT_CACHE_HITS._value.get(), RESULT_CACHE_MISSES._value.get()
    search(api, "a metric circle")
    search(api, "a metric circle")
    assert (RESULT_CACHE_HITS._value.get() - hits, RESULT_CACHE_MISSES._value.get() - misses) == (1, 1)
