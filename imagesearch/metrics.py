"""Prometheus metrics, served at /metrics to whoever METRICS_TOKEN or METRICS_ALLOWED_IPS lets in.

The web server runs several processes; prometheus-client's multiprocess mode (PROMETHEUS_MULTIPROC_DIR, set by
imagesearch/gunicorn.py before the workers start) keeps each process's values in a file of its own and adds them up
at scrape time, whichever process answers. What no web process measures is read when scraped: the Celery queues'
lengths and the task outcomes the workers count (in Redis, so workers on any host count), and jobs by state.
"""

from __future__ import annotations

import hmac
import ipaddress
import logging
import os
from functools import cache

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.multiprocess import MultiProcessCollector

logger = logging.getLogger(__name__)

TASK_OUTCOMES_KEY = "imagesearch:metrics:task-outcomes"
_FAST = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5)

REQUEST_SECONDS = Histogram(
    "imagesearch_http_request_duration_seconds",
    "Time from a request's arrival to its response, by route name (not path), method and status.",
    ["route", "method", "status"],
)
ENCODE_SECONDS = Histogram("imagesearch_query_encode_seconds", "Time to encode a search query.", buckets=_FAST)
VECTOR_SEARCH_SECONDS = Histogram(
    "imagesearch_vector_search_seconds", "Time of a search's database part (vector, or hybrid).", buckets=_FAST
)
RESULT_CACHE_HITS = Counter("imagesearch_result_cache_hits", "Search result pages answered from the cache.")
RESULT_CACHE_MISSES = Counter("imagesearch_result_cache_misses", "Cacheable searches the cache could not answer.")
WEBSOCKETS = Gauge(
    "imagesearch_websocket_connections", "Open websocket connections.", ["consumer"], multiprocess_mode="livesum"
)
DB_POOL = Gauge(
    "imagesearch_db_pool_connections",
    "Database connections of the web processes' pools (in_use, idle, max), as each process's latest request ended "
    "(that request's own connection still in use).",
    ["state"],
    multiprocess_mode="livesum",
)


def observe_request(route: str, method: str, status: int, seconds: float) -> None:
    REQUEST_SECONDS.labels(route, method, str(status)).observe(seconds)
    _observe_pool()


def observe_search(timings_ms: dict[str, float]) -> None:
    if "encode" in timings_ms:
        ENCODE_SECONDS.observe(timings_ms["encode"] / 1000)
    if "search" in timings_ms:
        VECTOR_SEARCH_SECONDS.observe(timings_ms["search"] / 1000)


def result_cache_lookup(hit: bool) -> None:
    (RESULT_CACHE_HITS if hit else RESULT_CACHE_MISSES).inc()


def websocket_opened(consumer: str) -> bool:
    WEBSOCKETS.labels(consumer).inc()
    return True


def websocket_closed(consumer: str) -> None:
    WEBSOCKETS.labels(consumer).dec()


def _observe_pool() -> None:
    from django.db import connections

    # The pool as the backend keeps it, per alias: `connection.pool` would make one where none is yet.
    wrapper = connections["default"]
    pool = getattr(type(wrapper), "_connection_pools", {}).get(wrapper.alias)
    if pool is None:
        return
    stats = pool.get_stats()
    size, available = stats.get("pool_size", 0), stats.get("pool_available", 0)
    DB_POOL.labels("in_use").set(size - available)
    DB_POOL.labels("idle").set(available)
    DB_POOL.labels("max").set(pool.max_size)


# --- Counted by Celery workers, anywhere: in Redis -------------------------------------------------------------------


@cache
def _redis(url: str):
    import redis

    return redis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2)


def task_outcome_count(task: str, outcome: str) -> None:
    """One more task of `task` ended with `outcome` (success, failure, retry, ...); a Redis outage costs the count."""
    try:
        _redis(settings.REDIS_URL).hincrby(TASK_OUTCOMES_KEY, f"{task}|{outcome}", 1)
    except Exception as error:  # the task's own work matters more than its count
        logger.debug("task outcome not counted: %s", error)


def celery_queues() -> list[str]:
    routed = {route["queue"] for route in settings.CELERY_TASK_ROUTES.values()}
    return sorted(routed | {settings.CELERY_TASK_DEFAULT_QUEUE})


class ScrapeTimeCollector:
    """What is read when /metrics is asked: queue lengths, task outcomes (Redis), jobs by state (the database)."""

    def collect(self):
        yield from self._redis_families()
        yield self._jobs()

    def _redis_families(self):
        queued = GaugeMetricFamily(
            "imagesearch_celery_queue_length", "Tasks waiting in a Celery queue.", labels=["queue"]
        )
        outcomes = CounterMetricFamily(
            "imagesearch_celery_tasks", "Celery tasks ended, by task and outcome.", labels=["task", "outcome"]
        )
        try:
            client = _redis(settings.REDIS_URL)
            for queue in celery_queues():
                queued.add_metric([queue], client.llen(queue))
            for field, count in sorted(client.hgetall(TASK_OUTCOMES_KEY).items()):
                task, _, outcome = field.decode().partition("|")
                outcomes.add_metric([task, outcome], int(count))
        except Exception as error:
            logger.warning("Redis unavailable for /metrics: %s", error)
        return [queued, outcomes]

    def _jobs(self):
        from django.db.models import Count

        from search.models import Job

        family = GaugeMetricFamily("imagesearch_jobs", "Background jobs by kind and state.", labels=["kind", "state"])
        for row in Job.objects.values("kind", "state").annotate(n=Count("id")).order_by("kind", "state"):
            family.add_metric([row["kind"], row["state"]], row["n"])
        return family


class _ThisProcess:
    def collect(self):
        yield from REGISTRY.collect()


def exposition() -> bytes:
    """The metrics in Prometheus's text format: every web process's, added up, and the scrape-time ones."""
    registry = CollectorRegistry()
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        MultiProcessCollector(registry)
    else:
        registry.register(_ThisProcess())
    registry.register(ScrapeTimeCollector())
    return generate_latest(registry)


# --- Access ----------------------------------------------------------------------------------------------------------


def scrape_allowed(request: HttpRequest) -> bool:
    token = settings.METRICS_TOKEN
    if token:
        scheme, _, given = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() == "bearer" and hmac.compare_digest(given.strip().encode(), token.encode()):
            return True
    try:
        address = ipaddress.ip_address(request.META.get("REMOTE_ADDR", ""))
    except ValueError:
        return False
    return any(address in network for network in settings.METRICS_ALLOWED_IPS)


def metrics_view(request: HttpRequest) -> HttpResponse:
    """/metrics: 404 while neither METRICS_TOKEN nor METRICS_ALLOWED_IPS is set, 403 to anyone they do not let in."""
    if not settings.METRICS_TOKEN and not settings.METRICS_ALLOWED_IPS:
        raise Http404("metrics are off")
    if not scrape_allowed(request):
        return HttpResponse("Forbidden\n", status=403, content_type="text/plain")
    return HttpResponse(exposition(), content_type=CONTENT_TYPE_LATEST)
