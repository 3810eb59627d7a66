"""p50/p95 of POST /api/search/ for text queries, cache miss and cache hit, through the full DRF stack.

`manage.py speed` measures speed at scale (ViT-B-32, simulated collections); this one answers the API issue's
question on the configured (small) model: it inserts --images rows with random vectors of that model, all inside a
transaction that is rolled back at the end, so the database is left as it was.
"""

from __future__ import annotations

import json
import time
import uuid

import numpy as np
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.test import Client, override_settings

from accounts.services import token_create
from search.encoder import get_encoder
from search.lab.speed.rows import create_with_vectors, synthetic_image, unit_rows
from search.vector_index import ensure_hnsw_index

WORDS = ("red", "blue", "green", "large", "small", "circle", "square", "triangle", "left", "right", "top", "bottom")


class Command(BaseCommand):
    help = "Time POST /api/search/ (text, cache miss then hit) over N temporary rows of the configured model."

    def add_arguments(self, parser):
        parser.add_argument("--images", type=int, default=3000)
        parser.add_argument("--queries", type=int, default=300)
        parser.add_argument("-k", "--top-k", type=int, default=10)

    def handle(self, **options):
        if options["images"] < 1 or options["queries"] < 1:
            raise CommandError("--images and --queries must be positive")
        encoder = get_encoder()
        encoder.warm_up()
        rates = {"user": "1000000/second", "anon": "1000000/second", "uploads": "1000000/second"}
        unthrottled = override_settings(REST_FRAMEWORK={**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": rates})
        with unthrottled, transaction.atomic():
            ensure_hnsw_index(encoder.model_key, encoder.dim)
            self._insert_rows(encoder, options["images"])
            report = self._measure(encoder, options["queries"], options["top_k"])
            transaction.set_rollback(True)
        self._print(encoder, options, report)

    def _insert_rows(self, encoder, count: int) -> None:
        rng = np.random.default_rng(0)
        vectors = unit_rows(rng.standard_normal((count, encoder.dim)))
        prefix = f"bench-{uuid.uuid4().hex}"
        images = [synthetic_image(n, prefix=prefix) for n in range(count)]
        create_with_vectors(images, vectors, model_key=encoder.model_key)

    def _measure(self, encoder, queries: int, top_k: int) -> dict:
        user = get_user_model().objects.create_user(f"bench-{uuid.uuid4().hex[:8]}")
        client = Client(SERVER_NAME="localhost", HTTP_AUTHORIZATION=f"Token {token_create(user=user, name='b').key}")
        salt = uuid.uuid4().hex[:8]
        texts = [f"a {WORDS[n % 12]} {WORDS[(n // 12) % 12]} {WORDS[n % 7]} {salt} {n}" for n in range(queries)]
        for text in texts[:10]:
            self._post(client, f"warm-up {text}", top_k)
        miss, hit = [], []
        for text in texts:  # the hit right after its miss: result pages live only API_RESULT_CACHE_SECONDS
            miss.append(self._post(client, text, top_k))
            hit.append(self._post(client, text, top_k))
        if any(sample[2] for sample in miss) or not all(sample[2] for sample in hit):
            raise CommandError("unexpected cache state: is the cache backend reachable?")
        return {"miss": miss, "hit": hit}

    def _post(self, client: Client, text: str, top_k: int) -> tuple:
        started = time.perf_counter()
        response = client.post("/api/search/", json.dumps({"query": text, "top_k": top_k}), "application/json")
        wall = (time.perf_counter() - started) * 1000
        if response.status_code != 200:
            raise CommandError(f"POST /api/search/ answered {response.status_code}: {response.content[:300]!r}")
        body = response.json()
        latency = body["latency_ms"]
        return wall, latency["total"], body["cached"], latency["encode"], latency["search"]

    def _print(self, encoder, options, report) -> None:
        cache = settings.CACHES["default"]["BACKEND"].rsplit(".", 1)[-1]
        self.stdout.write(
            f"POST /api/search/ (text, top_k={options['top_k']}), {options['images']} images of {encoder.model_key} "
            f"(dim {encoder.dim}, {encoder.device}), {options['queries']} queries, cache {cache}\n"
        )
        self.stdout.write(
            "| case | client p50 ms | client p95 ms | client p99 ms | server p50 ms: encode / search / total |"
        )
        self.stdout.write("| --- | --- | --- | --- | --- |")
        for case, samples in report.items():
            wall = np.percentile([s[0] for s in samples], [50, 95, 99])
            encode, search, total = (np.percentile([s[i] for s in samples], 50) for i in (3, 4, 1))
            client = " | ".join(f"{value:.2f}" for value in wall)
            self.stdout.write(f"| cache {case} | {client} | {encode:.2f} / {search:.2f} / {total:.2f} |")
