import numpy as np
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from search.api.latency import recorder
from search.models import Image
from search.vector_index import ensure_hnsw_index
from tests.factories import image_bytes, image_row, noise_image_bytes, png_bomb_bytes, unit_vector

pytestmark = pytest.mark.django_db

HIT_FIELDS = {"id", "score", "thumbnail_url", "url", "caption", "category", "width", "height"}


def upload(data: bytes, name: str = "query.png") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data, content_type="application/octet-stream")


def test_text_search_returns_the_documented_shape(api, rows, encoder):
    response = api.post("/api/search/", {"query": "a red circle", "top_k": 5}, format="json")
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"query", "results", "total", "model", "latency_ms", "cached", "next_cursor"}
    assert body["query"] == "a red circle"
    assert body["total"] == len(body["results"]) == 5
    assert body["model"] == encoder.model_key
    assert set(body["results"][0]) == HIT_FIELDS
    assert set(body["latency_ms"]) == {"encode", "search", "total"}
    assert body["cached"] is False
    scores = [hit["score"] for hit in body["results"]]
    assert scores == sorted(scores, reverse=True)


def test_filters_and_min_score_apply(api, rows):
    response = api.post(
        "/api/search/", {"query": "shapes", "top_k": 50, "filters": {"category": "rare"}}, format="json"
    )
    assert response.status_code == 200
    assert {hit["category"] for hit in response.json()["results"]} == {"rare"}
    assert response.json()["total"] == 20
    strict = api.post("/api/search/", {"query": "shapes", "top_k": 50, "min_score": 0.99}, format="json")
    assert strict.status_code == 200
    assert all(hit["score"] >= 0.99 for hit in strict.json()["results"])


def test_hidden_images_never_come_back(api, rows):
    Image.objects.filter(id__in=[row.id for row in rows]).update(hidden=True)
    response = api.post("/api/search/", {"query": "anything", "top_k": 100}, format="json")
    assert response.status_code == 200
    assert response.json()["results"] == []


def test_image_search_by_multipart_upload_finds_the_same_image_first(api, stored_image):
    data = {"image": upload(noise_image_bytes(1, fmt="PNG")), "top_k": "3"}
    response = api.post("/api/search/", data, format="multipart")
    assert response.status_code == 200, response.json()
    first = response.json()["results"][0]
    assert first["id"] == stored_image.id
    assert first["score"] == pytest.approx(1.0, abs=1e-4)
    assert response.json()["cached"] is False


def test_combined_multipart_search_accepts_json_encoded_filters(api, stored_image):
    data = {
        "image": upload(noise_image_bytes(1, fmt="PNG")),
        "query": "noise",
        "image_weight": "0.9",
        "filters": '{"category": ""}',
    }
    response = api.post("/api/search/", data, format="multipart")
    assert response.status_code == 200, response.json()
    assert response.json()["results"][0]["id"] == stored_image.id


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"query": ""}, "query"),
        ({"query": "x" * 1001}, "query"),
        ({"query": "cat", "top_k": 0}, "top_k"),
        ({"query": "cat", "top_k": 101}, "top_k"),
        ({"query": "cat", "top_k": "many"}, "top_k"),
        ({"query": "cat", "min_score": 1.5}, "min_score"),
        ({"query": "cat", "image_weight": -0.1}, "image_weight"),
        ({"query": "cat", "filters": {"source": "moon"}}, "filters.source"),
        ({"query": "cat", "filters": {"colour": "red"}}, "filters.colour"),
        ({"query": "cat", "topk": 5}, "topk"),
        ({"query": "cat", "image": "not a file"}, "image"),
    ],
)
def test_bad_search_input_is_a_400_naming_the_field(api, payload, field):
    response = api.post("/api/search/", payload, format="json")
    assert response.status_code == 400
    body = response.json()
    assert field in [error["field"] for error in body["errors"]]
    assert body["detail"]


@pytest.mark.parametrize(
    "data",
    [b"", b"GIF89a not really", b"%PDF-1.4 fake", png_bomb_bytes()],
    ids=["empty", "truncated-gif", "pdf", "png-bomb"],
)
def test_bad_images_are_refused_by_content(api, data):
    response = api.post("/api/search/", {"image": upload(data)}, format="multipart")
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "image"


def test_oversized_upload_is_refused_before_decoding(api, settings):
    settings.UPLOAD_MAX_BYTES = 100
    response = api.post("/api/search/", {"image": upload(image_bytes(size=(64, 64)))}, format="multipart")
    assert response.status_code == 400
    assert "limit" in response.json()["errors"][0]["message"]


def test_malformed_json_and_other_media_types_are_4xx(api):
    broken = api.generic("POST", "/api/search/", "{not json", content_type="application/json")
    assert broken.status_code == 400
    assert broken.json()["errors"][0]["code"] == "parse_error"
    xml = api.generic("POST", "/api/search/", "<q/>", content_type="application/xml")
    assert xml.status_code == 415
    listing = api.post("/api/search/", [1, 2], format="json")
    assert listing.status_code == 400


def test_search_requires_authentication(anon):
    response = anon.post("/api/search/", {"query": "cat"}, format="json")
    assert response.status_code == 401
    assert response.json()["errors"][0]["code"] == "not_authenticated"


def test_session_login_works_for_the_browser(user, rows):
    from rest_framework.test import APIClient

    client = APIClient(enforce_csrf_checks=False)
    client.force_login(user)
    assert client.post("/api/search/", {"query": "cat"}, format="json").status_code == 200


def test_search_latency_is_recorded_for_stats(api, rows):
    for _ in range(3):
        api.post("/api/search/", {"query": "cat", "top_k": 2}, format="json")
    summary = recorder.summary()["search"]
    assert summary["count"] == 3
    assert set(summary) == {"count", "encode", "search", "total"}


def test_encode_text_returns_normalised_vectors(api, encoder):
    response = api.post("/api/encode/text/", {"texts": ["a red circle", "a blue square"]}, format="json")
    assert response.status_code == 200
    body = response.json()
    assert body["model"] == encoder.model_key
    assert body["dim"] == encoder.dim
    assert len(body["vectors"]) == 2
    expected = encoder.encode_text(["a red circle"])[0]
    assert body["vectors"][0] == pytest.approx(expected.tolist(), abs=1e-5)
    single = api.post("/api/encode/text/", {"text": "a red circle"}, format="json").json()
    assert single["vectors"][0] == pytest.approx(expected.tolist(), abs=1e-5)


@pytest.mark.parametrize(
    "payload",
    [{}, {"text": "a", "texts": ["b"]}, {"texts": []}, {"texts": ["x"] * 33}, {"text": ""}, {"text": "a", "x": 1}],
)
def test_encode_text_refuses_bad_input(api, payload):
    assert api.post("/api/encode/text/", payload, format="json").status_code == 400


def test_encode_image_matches_the_encoder(api, encoder):
    data = noise_image_bytes(3, fmt="PNG")
    response = api.post("/api/encode/image/", {"image": upload(data)}, format="multipart")
    assert response.status_code == 200
    from search.imagefiles import load_image

    expected = encoder.encode_images([load_image(data, max_pixels=10**8).image])[0]
    assert response.json()["vector"] == pytest.approx(expected.tolist(), abs=1e-5)
    assert response.json()["dim"] == encoder.dim


def test_encode_image_refuses_a_non_image(api):
    response = api.post("/api/encode/image/", {"image": upload(b"hello")}, format="multipart")
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "image"
    missing = api.post("/api/encode/image/", {}, format="multipart")
    assert missing.status_code == 400
    assert missing.json()["errors"][0] == {"field": "image", "code": "required", "message": "No file was submitted."}


def test_caption_search_returns_the_closest_captions(api, encoder):
    from tests.factories import image_row

    texts = ["a red circle", "a blue square", "a green triangle"]
    vectors = encoder.encode_text(texts)
    for text, vector in zip(texts, vectors, strict=True):
        row = image_row(vector=vector, model_key=encoder.model_key, caption=text)
        Image.objects.filter(id=row.id).update(caption_embedding=vector, caption_embedding_model=encoder.model_key)
    response = api.post(
        "/api/search/captions/", {"image": upload(image_bytes("red", (64, 64))), "top_k": "2"}, format="multipart"
    )
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["total"] == 2
    assert set(body["results"][0]) == {"image_id", "caption", "score"}
    assert body["results"][0]["caption"] in texts
    assert body["model"] == encoder.model_key


def test_caption_search_needs_an_image(api):
    response = api.post("/api/search/captions/", {"top_k": "2"}, format="multipart")
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "image"


def test_uploads_have_a_tighter_throttle(api, settings):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"user": "100/minute", "anon": "100/minute", "uploads": "2/minute"},
    }
    statuses = [api.post("/api/encode/text/", {"text": "a"}, format="json").status_code for _ in range(3)]
    assert statuses == [200, 200, 429]
    body = api.post("/api/encode/text/", {"text": "a"}, format="json").json()
    assert body["errors"][0]["code"] == "throttled"
    # Plain text search is not an upload: only the user rate applies.
    assert api.post("/api/search/", {"query": "cat"}, format="json").status_code == 200


def test_anonymous_clients_are_throttled_too(anon, settings):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"user": "100/minute", "anon": "2/minute", "uploads": "100/minute"},
    }
    statuses = [anon.get("/api/stats/").status_code for _ in range(3)]
    assert statuses == [401, 401, 429]


def test_wrong_tokens_are_throttled_by_address(anon, settings):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"user": "100/minute", "anon": "2/minute", "uploads": "100/minute"},
    }
    anon.credentials(HTTP_AUTHORIZATION="Token isk_guess")
    statuses = [anon.post("/api/search/", {"query": "x"}, format="json").status_code for _ in range(3)]
    assert statuses == [401, 401, 429]


def test_text_search_query_count_is_bounded(api, rows, django_assert_max_num_queries):
    api.post("/api/search/", {"query": "warm", "top_k": 5}, format="json")  # token's last_used_at written once
    with django_assert_max_num_queries(6):
        response = api.post("/api/search/", {"query": "a red circle", "top_k": 50}, format="json")
    assert response.json()["total"] == 50


def test_hybrid_mode_finds_a_caption_word_that_vector_search_misses(api, rows, encoder):
    """The example the README gives: a word only one image's caption holds, on an image far from the query vector."""
    query = encoder.encode_text(["zebra"])[0]
    far = -query / np.linalg.norm(query)
    zebra = image_row(vector=far.astype(np.float32), model_key=encoder.model_key, caption="a zebra crossing")
    vector = api.post("/api/search/", {"query": "zebra", "top_k": 5}, format="json").json()
    hybrid = api.post("/api/search/", {"query": "zebra", "top_k": 5, "mode": "hybrid"}, format="json").json()
    assert zebra.id not in [hit["id"] for hit in vector["results"]]
    assert hybrid["results"][0]["id"] == zebra.id


def test_an_unknown_mode_is_a_400_naming_it(api, rows):
    response = api.post("/api/search/", {"query": "x", "mode": "psychic"}, format="json")
    assert response.status_code == 400 and response.json()["errors"][0]["field"] == "mode"


def test_photo_filters_through_the_api(api, rows, encoder):
    june = image_row(
        vector=unit_vector(encoder.dim, 500),
        model_key=encoder.model_key,
        taken_at="2024-06-01T12:00:00Z",
        camera_make="Canon",
        camera_model="Canon EOS R5",
        latitude=48.85,
        longitude=2.29,
    )
    filters = {"taken_after": "2024-05-01", "taken_before": "2024-07-01T00:00:00+02:00", "camera": "eos"}
    body = api.post("/api/search/", {"query": "x", "top_k": 50, "filters": filters}, format="json").json()
    assert [hit["id"] for hit in body["results"]] == [june.id]
    located = {"has_location": True, "bbox": [40, -10, 60, 20]}
    body = api.post("/api/search/", {"query": "x", "top_k": 50, "filters": located}, format="json").json()
    assert [hit["id"] for hit in body["results"]] == [june.id]
    unlocated = api.post(
        "/api/search/", {"query": "x", "top_k": 100, "filters": {"has_location": False}}, format="json"
    ).json()
    assert june.id not in [hit["id"] for hit in unlocated["results"]] and unlocated["total"] == len(rows)


@pytest.mark.parametrize(
    "filters",
    [{"bbox": [1, 2, 3]}, {"bbox": [50, 0, 40, 1]}, {"taken_after": "last tuesday"}, {"has_location": "maybe"}],
)
def test_bad_photo_filters_are_a_400_with_the_reason(api, rows, filters):
    response = api.post("/api/search/", {"query": "x", "filters": filters}, format="json")
    errors = response.json()["errors"]
    assert response.status_code == 400 and errors[0]["message"]
    assert errors[0]["field"].removeprefix("filters.") == next(iter(filters))


def test_pages_follow_each_other_in_one_stable_order(api, rows, encoder):
    """Three pages of 20 are the first 60 of one ranking: no overlap, no gap, the same order."""
    whole = api.post("/api/search/", {"query": "shapes", "top_k": 60}, format="json").json()
    pages, cursor = [], None
    for _ in range(3):
        body = {"query": "shapes", "top_k": 20, **({"cursor": cursor} if cursor else {})}
        answer = api.post("/api/search/", body, format="json").json()
        pages += [hit["id"] for hit in answer["results"]]
        cursor = answer["next_cursor"]
    assert pages == [hit["id"] for hit in whole["results"]] and len(set(pages)) == 60
    assert (
        cursor is None
        or api.post("/api/search/", {"query": "shapes", "top_k": 20, "cursor": cursor}, format="json").json()["results"]
        == []
    )


def test_paging_goes_past_one_hundred_results(api, encoder):
    ensure_hnsw_index(encoder.model_key, encoder.dim)
    for seed in range(150):
        image_row(vector=unit_vector(encoder.dim, 1000 + seed), model_key=encoder.model_key)
    seen, cursor = [], None
    while True:
        body = {"query": "anything", "top_k": 100, **({"cursor": cursor} if cursor else {})}
        answer = api.post("/api/search/", body, format="json").json()
        seen += [hit["id"] for hit in answer["results"]]
        cursor = answer["next_cursor"]
        if cursor is None:
            break
    assert len(seen) == len(set(seen)) == 150


def test_a_short_page_has_no_next_cursor_and_hybrid_pages_are_refused(api, rows):
    assert api.post("/api/search/", {"query": "x", "top_k": 100}, format="json").json()["next_cursor"] is None
    cursor = api.post("/api/search/", {"query": "x", "top_k": 5}, format="json").json()["next_cursor"]
    hybrid = api.post("/api/search/", {"query": "x", "top_k": 5, "mode": "hybrid", "cursor": cursor}, format="json")
    assert hybrid.status_code == 400 and hybrid.json()["errors"][0]["field"] == "cursor"


@pytest.mark.parametrize("cursor", ["garbage", "eyJ2IjoxfQ", "e30", "!!!"])
def test_a_damaged_cursor_is_a_400(api, rows, cursor):
    response = api.post("/api/search/", {"query": "x", "cursor": cursor}, format="json")
    assert response.status_code == 400 and response.json()["errors"][0]["field"] == "cursor"


def test_a_cursor_of_another_query_is_refused(api, rows):
    cursor = api.post("/api/search/", {"query": "red", "top_k": 5}, format="json").json()["next_cursor"]
    response = api.post("/api/search/", {"query": "blue", "top_k": 5, "cursor": cursor}, format="json")
    assert response.status_code == 400 and "another query" in response.json()["errors"][0]["message"]
