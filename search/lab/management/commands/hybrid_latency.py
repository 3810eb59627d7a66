"""p50 latency of hybrid vs pure vector search over N synthetic captioned rows, written and rolled back."""

import itertools
import statistics
import time

import numpy as np
from django.core.management.base import BaseCommand
from django.db import connection, transaction

from search.encoder import get_encoder
from search.lab.speed.rows import create_with_vectors, synthetic_image, unit_rows
from search.models import Image
from search.query import SearchRequest
from search.selectors.hybrid import parse_query, text_search_query
from search.selectors.search import search_images
from search.vector_index import VECTOR_TABLE, ensure_hnsw_index

COLOURS = ["red", "green", "blue", "yellow", "purple", "orange", "black", "grey"]
SHAPES = ["circle", "square", "triangle", "star", "cross", "ring"]
PLACES = ["on the left", "on the right", "at the top", "at the bottom", "in the centre"]


class Rollback(Exception):
    pass


class Command(BaseCommand):
    help = "Measure the added p50 latency of hybrid over vector search (rows are inserted, then rolled back)."

    def add_arguments(self, parser):
        parser.add_argument("--rows", type=int, default=3000)
        parser.add_argument("--query-prefix", default="", help='e.g. "can you show me " for conversational queries')
        parser.add_argument("--repeat", type=int, default=3)

    def handle(self, rows, query_prefix, repeat, **options):
        encoder = get_encoder()
        try:
            with transaction.atomic():
                self._insert(rows, encoder)
                queries = [f"{query_prefix}a {c} {s} {p}" for c, s, p in itertools.product(COLOURS, SHAPES, PLACES[:2])]
                vector, hybrid = self._measure(queries[:60], repeat, encoder)
                plan = Image.objects.visible().text_matches(text_search_query(parse_query(queries[0]))).explain()
                self.stdout.write(
                    f"rows={rows} queries={len(vector)} model={encoder.model_key}\n"
                    f"vector p50={statistics.median(vector):.2f} ms  hybrid p50={statistics.median(hybrid):.2f} ms  "
                    f"added p50={statistics.median(hybrid) - statistics.median(vector):.2f} ms\n"
                    f"full-text query uses image_text_gin: {'image_text_gin' in plan}"
                )
                raise Rollback
        except Rollback:
            pass

    def _insert(self, count, encoder):
        rng = np.random.default_rng(0)
        combos = list(itertools.product(["small", "large"], COLOURS, SHAPES, PLACES))
        rows, vectors = [], []
        for i in range(count):
            size, colour, shape, place = combos[i % len(combos)]
            vectors.append(unit_rows(rng.standard_normal(encoder.dim)))
            caption = f"a {size} {colour} {shape} {place} on a white background"
            rows.append(synthetic_image(i, prefix="hybrid-latency", caption=caption))
        create_with_vectors(rows, vectors, model_key=encoder.model_key, batch_size=500)
        ensure_hnsw_index(encoder.model_key, encoder.dim)
        with connection.cursor() as cursor:
            cursor.execute(f"ANALYZE search_image, {VECTOR_TABLE}")

    def _measure(self, queries, repeat, encoder):
        for query in queries[:10]:  # warm-up
            for mode in ("vector", "hybrid"):
                search_images(SearchRequest(text=query, mode=mode), encoder=encoder)
        timings = {"vector": [], "hybrid": []}
        for _ in range(repeat):
            for query in queries:
                for mode in ("vector", "hybrid"):
                    started = time.perf_counter()
                    search_images(SearchRequest(text=query, mode=mode), encoder=encoder)
                    timings[mode].append((time.perf_counter() - started) * 1000)
        return timings["vector"], timings["hybrid"]
