import pytest

from search import health

pytestmark = pytest.mark.django_db


def test_health_is_public_and_names_every_part(anon, encoder, settings):
    settings.CELERY_BROKER_URL = "redis://127.0.0.1:6379/0"
    response = anon.get("/api/health/")
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["status"] == "ok"
    assert set(body["checks"]) == {"database", "vector_extension", "encoder", "broker"}
    assert body["checks"]["encoder"]["model"] == encoder.model_key
    assert body["checks"]["encoder"]["device"] == "cpu"
    assert body["checks"]["encoder"]["precision"] == encoder.precision
    assert body["checks"]["encoder"]["text_path"] == encoder.text_path
    assert body["checks"]["vector_extension"]["version"]


def test_health_is_503_naming_an_unreachable_broker(anon, settings):
    settings.CELERY_BROKER_URL = "redis://127.0.0.1:1/0"
    response = anon.get("/api/health/")
    assert response.status_code == 503
    assert response.json()["failing"] == ["broker"]
    assert "127.0.0.1:1" in response.json()["checks"]["broker"]["error"]


def test_health_skips_the_broker_when_none_is_configured(anon, settings):
    settings.CELERY_BROKER_URL = ""
    assert "broker" not in anon.get("/api/health/").json()["checks"]


def test_health_names_a_broken_encoder(anon, monkeypatch, settings):
    settings.CELERY_BROKER_URL = ""

    def broken():
        raise RuntimeError("checkpoint not found")

    monkeypatch.setattr(health, "get_encoder", broken)
    response = anon.get("/api/health/")
    assert response.status_code == 503
    assert response.json()["failing"] == ["encoder"]
    assert "checkpoint not found" in response.json()["checks"]["encoder"]["error"]


def test_stats_give_collection_size_by_model_and_latency_percentiles(api, rows, encoder):
    for query in ("a", "b", "c", "a"):
        api.post("/api/search/", {"query": query}, format="json")
    api.post("/api/encode/text/", {"text": "a"}, format="json")
    body = api.get("/api/stats/").json()
    assert body["collection"] == {"total": 60, "hidden": 0, "by_model": {encoder.model_key: 60}}
    search = body["latency_ms"]["search"]
    assert search["count"] == 4
    assert set(search) == {"count", "encode", "search", "total"}
    assert search["total"]["p50"] <= search["total"]["p95"] <= search["total"]["p99"]
    assert set(body["latency_ms"]["encode_text"]) == {"count", "encode", "total"}


def test_stats_need_authentication(anon):
    assert anon.get("/api/stats/").status_code == 401


def test_schema_documents_every_endpoint(anon):
    response = anon.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert response.status_code == 200
    schema = response.json()
    assert set(schema["paths"]) == {
        "/api/search/",
        "/api/search/captions/",
        "/api/encode/text/",
        "/api/encode/image/",
        "/api/images/",
        "/api/images/{image_id}/",
        "/api/jobs/{job_id}/",
        "/api/images/{image_id}/download/",
        "/api/sessions/",
        "/api/sessions/{session_id}/",
        "/api/sessions/{session_id}/turns/",
        "/api/health/",
        "/api/stats/",
    }
    search = schema["paths"]["/api/search/"]["post"]
    assert set(search["requestBody"]["content"]) == {"application/json", "multipart/form-data"}
    assert {"200", "400", "401", "429"} <= set(search["responses"])
    assert "tokenAuth" in schema["components"]["securitySchemes"]


def test_swagger_ui_is_served_without_a_cdn(anon):
    response = anon.get("/api/docs/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "swagger-ui" in html
    assert "cdn.jsdelivr.net" not in html
    assert "/static/drf_spectacular_sidecar/" in html


@pytest.mark.parametrize("path", ["/api/nothing/", "/api/images/abc/", "/api/sessions/1.5/turns/"])
def test_unknown_api_paths_are_json_404s(api, anon, path):
    for client in (api, anon):
        for method in ("get", "post", "delete"):
            response = getattr(client, method)(path)
            assert response.status_code == 404
            assert response.json()["errors"][0]["code"] == "not_found"
