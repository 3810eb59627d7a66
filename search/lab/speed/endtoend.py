"""End-to-end text queries: the search module and POST /api/search/, with cache miss and hit, and throughput.

The benchmark encoder is ViT-B-32 with random weights whose model key is set to the simulated collection's, so
queries search the synthetic rows; its vectors are random directions, which costs the index what real ones do.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from unittest import mock

from django.contrib.auth import get_user_model
from django.db import connections
from django.test import Client

from search import encoder as encoder_module
from search.encoder import ClipEncoder
from search.lab.speed.stats import percentiles
from search.query import SearchRequest
from search.selectors.search import search_images

ADJECTIVES = ("red", "small", "old", "bright", "wooden", "striped", "sleepy", "tall", "shiny", "wet")
NOUNS = ("dog", "car", "house", "tree", "boat", "cup", "bird", "chair", "lamp", "bridge")


def query_texts(count: int, *, salt: str) -> list[str]:
    """Distinct short queries; a new salt gives texts no cache has seen."""
    return [f"a {ADJECTIVES[i % 10]} {NOUNS[i // 10 % 10]} {salt} {i}" for i in range(count)]


def module_search(encoder: ClipEncoder, *, top_k: int = 10) -> Callable[[str], None]:
    def run(text: str) -> None:
        search_images(SearchRequest(text=text, top_k=top_k), encoder=encoder)

    return run


BENCHMARK_USER = "speed-benchmark"


def api_search(*, top_k: int = 10) -> Callable[[str], None]:
    """POST /api/search/ through Django's test client (the full DRF stack, no HTTP server), one client per thread.

    Signed in as a benchmark user (the API wants an account); the user lives in the benchmark database.
    """
    user, _ = get_user_model().objects.get_or_create(username=BENCHMARK_USER)
    local = threading.local()

    def run(text: str) -> None:
        if not hasattr(local, "client"):
            local.client = Client(SERVER_NAME="localhost")  # a host ALLOWED_HOSTS accepts by default
            local.client.force_login(user)
        body = json.dumps({"query": text, "top_k": top_k})
        response = local.client.post("/api/search/", body, content_type="application/json")
        if response.status_code != 200:
            raise RuntimeError(f"POST /api/search/ answered {response.status_code}: {response.content[:200]!r}")

    return run


@contextmanager
def serving(encoder: ClipEncoder):
    """The API answers with `encoder` and without rate limits (a benchmark is one very busy client)."""
    previous = encoder_module.process_encoder.loaded
    encoder_module.process_encoder.loaded = encoder
    try:
        with mock.patch("rest_framework.throttling.SimpleRateThrottle.allow_request", return_value=True):
            yield
    finally:
        encoder_module.process_encoder.loaded = previous


def latencies(call: Callable[[str], None], texts: Sequence[str]) -> dict[str, float]:
    samples = []
    for text in texts:
        started = time.perf_counter()
        call(text)
        samples.append((time.perf_counter() - started) * 1000)
    return percentiles(samples)


def miss_and_hit(call: Callable[[str], None], encoder: ClipEncoder, texts: Sequence[str]) -> dict[str, dict]:
    """Fresh texts (nothing cached), then the same texts again (answered by the caches)."""
    encoder.text_cache.clear()
    miss = latencies(call, texts)
    hit = latencies(call, texts)
    return {"miss": miss, "hit": hit}


def throughput(call: Callable[[str], None], texts: Sequence[str], *, clients: int) -> float:
    """Queries per second with `clients` threads sharing the texts (each thread has its own DB connection)."""

    def worker(share: Sequence[str]) -> None:
        try:
            for text in share:
                call(text)
        finally:
            connections.close_all()

    shares = [texts[i::clients] for i in range(clients)]
    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=clients) as pool:
        list(pool.map(worker, shares))
    return len(texts) / (time.perf_counter() - started)
