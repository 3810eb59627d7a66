"""/metrics: several processes' values add up (multiprocess mode), scrape-time readings, and who may scrape."""

from __future__ import annotations

import ipaddress
import subprocess
import sys

import pytest
from prometheus_client import multiprocess
from prometheus_client.parser import text_string_to_metric_families

from imagesearch import metrics
from imagesearch.procfile import ROOT
from search.models import Job, JobKind, JobState

TOKEN = "metrics-test-token-0123456789"


def _samples(text: str) -> dict[tuple, float]:
    """{(sample name, sorted labels): value} of an exposition."""
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def _web_process(metrics_dir, hits: int) -> int:
    """A process that counts as a web worker would; its pid, once it has exited."""
    script = (
        "from imagesearch import metrics; "
        f"metrics.RESULT_CACHE_HITS.inc({hits}); "
        "metrics.REQUEST_SECONDS.labels('api:search', 'POST', '200').observe(0.2); "
        "metrics.websocket_opened('SessionConsumer'); "
        "import os; print(os.getpid())"
    )
    env = {"PATH": "/usr/bin:/bin", "PROMETHEUS_MULTIPROC_DIR": str(metrics_dir), "PYTHONPATH": str(ROOT)}
    done = subprocess.run([sys.executable, "-c", script], env=env, cwd=ROOT, capture_output=True, text=True, check=True)
    return int(done.stdout.split()[-1])


@pytest.fixture
def scrapeable(settings):
    settings.METRICS_TOKEN = TOKEN
    settings.METRICS_ALLOWED_IPS = []
    return {"HTTP_AUTHORIZATION": f"Bearer {TOKEN}"}


@pytest.mark.django_db
def test_two_processes_counters_add_up_and_a_dead_process_gauges_leave(tmp_path, monkeypatch, client, scrapeable):
    first, second = _web_process(tmp_path, 3), _web_process(tmp_path, 4)
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path))

    both = _samples(client.get("/metrics", **scrapeable).content.decode())
    multiprocess.mark_process_dead(first, str(tmp_path))
    one_left = _samples(client.get("/metrics", **scrapeable).content.decode())

    assert both[("imagesearch_result_cache_hits_total", ())] == 7
    route = (("method", "POST"), ("route", "api:search"), ("status", "200"))
    assert both[("imagesearch_http_request_duration_seconds_count", route)] == 2
    assert both[("imagesearch_http_request_duration_seconds_sum", route)] == pytest.approx(0.4)
    assert both[("imagesearch_websocket_connections", (("consumer", "SessionConsumer"),))] == 2
    assert one_left[("imagesearch_websocket_connections", (("consumer", "SessionConsumer"),))] == 1
    assert one_left[("imagesearch_result_cache_hits_total", ())] == 7  # a dead process's counts still happened
    assert second != first


@pytest.mark.django_db
def test_requests_are_timed_by_route_name_never_by_path(client, scrapeable):
    client.get("/images/918273/thumbnail/")
    client.get("/api/health/")

    samples = _samples(client.get("/metrics", **scrapeable).content.decode())

    routes = {dict(labels).get("route") for name, labels in samples if name.startswith("imagesearch_http_request")}
    assert {"search:thumbnail", "api:health"} <= routes
    assert not any("918273" in str(route) for route in routes)


@pytest.mark.django_db
def test_queue_lengths_task_outcomes_and_jobs_are_read_when_scraped(client, scrapeable):
    Job.objects.create(kind=JobKind.INGEST, state=JobState.RUNNING, query="/photos")
    Job.objects.create(kind=JobKind.INGEST, state=JobState.RUNNING, query="/more")
    before = _samples(client.get("/metrics", **scrapeable).content.decode())
    metrics.task_outcome_count("search.tasks.purge.purge_task", "success")

    samples = _samples(client.get("/metrics", **scrapeable).content.decode())

    assert {("imagesearch_celery_queue_length", (("queue", q),)) for q in ("default", "embed", "llm")} <= set(samples)
    outcome = ("imagesearch_celery_tasks_total", (("outcome", "success"), ("task", "search.tasks.purge.purge_task")))
    assert samples[outcome] == before.get(outcome, 0) + 1
    assert samples[("imagesearch_jobs", (("kind", "ingest"), ("state", "running")))] == 2


def test_metrics_are_a_404_while_no_access_is_configured(client, settings):
    settings.METRICS_TOKEN, settings.METRICS_ALLOWED_IPS = "", []
    assert client.get("/metrics").status_code == 404


@pytest.mark.parametrize("authorization", [None, "Bearer wrong-token", f"Token {TOKEN}", TOKEN])
def test_a_wrong_or_missing_token_is_refused(client, settings, authorization):
    settings.METRICS_TOKEN, settings.METRICS_ALLOWED_IPS = TOKEN, []
    headers = {"HTTP_AUTHORIZATION": authorization} if authorization else {}
    assert client.get("/metrics", **headers).status_code == 403


@pytest.mark.django_db
@pytest.mark.parametrize(("networks", "status"), [(["10.0.0.0/8"], 403), (["10.0.0.0/8", "127.0.0.1"], 200)])
def test_allowed_addresses_scrape_without_a_token(client, settings, networks, status):
    settings.METRICS_TOKEN = ""
    settings.METRICS_ALLOWED_IPS = [ipaddress.ip_network(network) for network in networks]
    response = client.get("/metrics")
    assert response.status_code == status
    if status == 200:
        assert response["Content-Type"].startswith("text/plain")
