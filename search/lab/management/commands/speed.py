import os
import platform
import time
from datetime import UTC, datetime

import torch
from django.conf import settings
from django.core.management.base import CommandError
from django.test import override_settings

from search.encoder import ClipEncoder, cpu_has_bf16_matrix_units
from search.lab.database import LabCommand
from search.lab.speed import encoders, endtoend, hotpath, indexes, reference, updates
from search.lab.speed.stats import mean_recall
from search.lab.speed.synthetic import (
    CATEGORY_1PCT,
    CATEGORY_10PCT,
    SELECTIVITY,
    VectorSpace,
    exact_neighbours,
    relation_size,
    simulated_collections,
    simulated_model_key,
)
from search.lab.speed.vectors import ef_search_curve
from search.vector_index import HALFVEC, INDEX_KINDS, VECTOR, VECTOR_TABLE, hnsw_index_name

SECTIONS = (
    "vectors",
    "halfvec",
    "filtered",
    "indexes",
    "hotpath",
    "breakdown",
    "limit",
    "updates",
    "e2e",
    "text",
    "ingest",
)


def _ints(value: str) -> list[int]:
    return [int(part) for part in value.split(",") if part.strip()]


def _sizes(value: str) -> list[tuple[int, int]]:
    return [tuple(int(side) for side in part.split("x")) for part in value.split(",") if part.strip()]


class Command(LabCommand):
    help = (
        "Speed at scale: ef_search curve (recall@k vs exact, p50/p95/p99), halfvec, filtered queries, end-to-end "
        "text queries (search module and POST /api/search/, cache miss/hit, 1/4/16 clients), the cost of updates "
        "to image rows, text-encoder "
        "variants and image ingestion, printed as Markdown for docs/benchmarks.md. The collections come from "
        "`manage.py simulate --count N` with the same --dim/--clusters/--seed, in the lab's database."
    )

    def add_arguments(self, parser):
        parser.add_argument("--sizes", type=_ints, default=[10_000], help="e.g. 10000,100000,1000000")
        parser.add_argument("--queries", type=int, default=200)
        parser.add_argument("--ef", type=_ints, default=[10, 20, 40, 80, 160, 320], help="hnsw.ef_search values")
        parser.add_argument("-k", type=int, default=10)
        parser.add_argument("--dim", type=int, default=512)
        parser.add_argument("--clusters", type=int, default=100)
        parser.add_argument("--spread", type=float, default=1.0)
        parser.add_argument("--latent-dim", type=int, default=16, help="0: isotropic clusters (worst case)")
        parser.add_argument("--seed", type=int, default=0)
        parser.add_argument("--only", default=",".join(SECTIONS), help=f"sections, from {','.join(SECTIONS)}")
        parser.add_argument("--clients", type=_ints, default=[1, 4, 16])
        parser.add_argument("--bit-candidates", type=_ints, default=[100, 200, 400], help="bit index re-rank depths")
        parser.add_argument("--text-rounds", type=int, default=50)
        parser.add_argument("--ingest-images", type=int, default=64)
        parser.add_argument("--clip-model", default="ViT-B-32", help="open_clip architecture, random weights")
        parser.add_argument(
            "--ingest-sizes", type=_sizes, default=[(1024, 768), (4032, 3024)], help="photo sizes, e.g. 1024x768"
        )
        parser.add_argument("--compile", action="store_true", help="also time torch.compile (slow to compile)")

    def handle(self, **options):
        sections = {part.strip() for part in options["only"].split(",")}
        if unknown := sections - set(SECTIONS):
            raise CommandError(f"unknown sections: {', '.join(sorted(unknown))}")
        self.options = options
        self.space = VectorSpace(
            options["dim"], options["clusters"], options["spread"], options["seed"], options["latent_dim"]
        )
        encoder = None
        if sections & {"e2e", "breakdown", "text", "ingest"}:
            if settings.CLIP_THREADS:  # as the app's own encoder does (search.encoder._build_from_settings)
                torch.set_num_threads(settings.CLIP_THREADS)
            # The shipped configuration for end-to-end timings; float32 (open_clip's own) as the encoder
            # variants' reference, and a bf16 one to compare with it (those two only where they are timed).
            encoder = self._encoder(settings.CLIP_PRECISION, text_int8=settings.CLIP_TEXT_INT8)
            if sections & {"text", "ingest"}:
                self.float_encoder = self._encoder("float32")
                self.bf16_encoder = self._encoder("bfloat16")
        self._header()
        per_size = {"vectors", "halfvec", "filtered", "indexes", "hotpath", "breakdown", "limit", "updates", "e2e"}
        for size in options["sizes"] if sections & per_size else []:
            model_key = self._collection(size)
            self.out(f"\n#### {size:,} vectors ({model_key})\n")
            self._index_sizes(model_key)
            if "vectors" in sections:
                self._curve(size, model_key, halfvec=False)
            if "halfvec" in sections:
                self._curve(size, model_key, halfvec=True)
            if "filtered" in sections:
                self._filtered(size, model_key)
            if "indexes" in sections:
                self._indexes(size, model_key)
            if "hotpath" in sections:
                self._hotpath(model_key)
            if "breakdown" in sections:
                self._breakdown(model_key, encoder)
            if "limit" in sections:
                self._limit(size, model_key)
            if "updates" in sections:
                self._updates(model_key)
            if "e2e" in sections:
                self._end_to_end(size, model_key, encoder)
        if "text" in sections:
            self._text(encoder)
        if "ingest" in sections:
            self._ingest(encoder)

    def _encoder(self, precision: str, *, text_int8: bool = False) -> ClipEncoder:
        return ClipEncoder(
            self.options["clip_model"],
            "",
            text_cache_size=settings.CLIP_TEXT_CACHE_SIZE,
            text_threads=settings.CLIP_TEXT_THREADS,
            text_int8=text_int8,
            precision=precision,
        )

    def out(self, line: str = "") -> None:
        self.stdout.write(line)
        self.stdout.flush()

    def _header(self) -> None:
        self.out(
            f"Run {datetime.now(UTC):%Y-%m-%d %H:%M} UTC on {platform.machine()}, torch threads "
            f"{torch.get_num_threads()}, database {settings.DATABASES['default']['NAME']}, "
            f"SEARCH_EF_SEARCH={settings.SEARCH_EF_SEARCH}, {self.options['queries']} queries, k={self.options['k']}, "
            f"CPU bf16 matrix units: {'yes' if cpu_has_bf16_matrix_units() else 'no'}"
        )

    def _collection(self, size: int) -> str:
        model_key = simulated_model_key(self.space, size)
        have = simulated_collections().get(model_key, 0)
        if have != size:
            raise CommandError(
                f"{model_key} has {have:,} rows, not {size:,}: run `manage.py simulate --count {size} "
                f"--dim {self.space.dim} --clusters {self.space.clusters} --latent-dim {self.space.latent_dim} "
                f"--spread {self.space.spread:g} --seed {self.space.seed} --halfvec` first"
            )
        return model_key

    def _index_sizes(self, model_key: str) -> None:
        mib = {kind: relation_size(hnsw_index_name(model_key, kind=kind)) / 2**20 for kind in INDEX_KINDS}
        sizes = [f"{kind} {size:,.1f} MiB" for kind, size in mib.items()]
        table, vectors = (relation_size(name) / 2**20 for name in ("search_image", VECTOR_TABLE))
        self.out(
            f"HNSW index size: {', '.join(sizes)}; tables (all collections): {VECTOR_TABLE} {vectors:,.1f} MiB, "
            f"search_image {table:,.1f} MiB\n"
        )

    def _indexes(self, size: int, model_key: str) -> None:
        k, ef = self.options["k"], settings.SEARCH_EF_SEARCH
        queries = self.space.queries(self.options["queries"])
        exact = exact_neighbours(self.space, queries, count=size, k=k)
        variants = indexes.index_variants(model_key, self.options["bit_candidates"])
        points = indexes.compare_indexes(model_key, variants, queries, exact, k=k, ef_search=ef)
        self.out(f"ImageQuerySet.nearest(index=...), top {k}, ef_search {ef}, variants interleaved query by query\n")
        self.out(f"| index | index MiB | recall@{k} | p50 ms | p95 ms | p99 ms | plan |")
        self.out("|---|---:|---:|---:|---:|---:|---|")
        for p in points:
            latency = p.latency_ms
            self.out(
                f"| {p.variant.name} | {p.index_bytes / 2**20:,.1f} | {p.recall:.4f} | {latency['p50']:.2f} "
                f"| {latency['p95']:.2f} | {latency['p99']:.2f} | {p.plan} |"
            )
        self.out()

    def _curve(self, size: int, model_key: str, *, halfvec: bool) -> None:
        kind = HALFVEC if halfvec else VECTOR
        if not relation_size(hnsw_index_name(model_key, kind=kind)):  # else the curve would time exact scans
            self.out(f"(no {kind} index: run simulate with --{kind})\n")
            return
        queries = self.space.queries(self.options["queries"])
        points = ef_search_curve(
            self.space,
            model_key=model_key,
            count=size,
            queries=queries,
            ef_values=self.options["ef"],
            k=self.options["k"],
            halfvec=halfvec,
        )
        self.out(f"| ef_search | recall@{self.options['k']} ({kind} index) | p50 ms | p95 ms | p99 ms | plan |")
        self.out("|---:|---:|---:|---:|---:|---|")
        for p in points:
            latency = p.latency_ms
            self.out(
                f"| {p.ef_search} | {p.recall:.4f} | {latency['p50']:.2f} | {latency['p95']:.2f} "
                f"| {latency['p99']:.2f} | {p.plan} |"
            )
        self.out()

    def _filtered(self, size: int, model_key: str) -> None:
        queries = self.space.queries(self.options["queries"])
        ef = settings.SEARCH_EF_SEARCH
        self.out(
            f"| filter (selectivity) | rows matching | ef_search | recall@{self.options['k']} | rows returned "
            "| p50 ms | p95 ms | p99 ms | plan |"
        )
        self.out("|---|---:|---:|---:|---:|---:|---:|---:|---|")
        for category in (CATEGORY_10PCT, CATEGORY_1PCT):
            (point,) = ef_search_curve(
                self.space,
                model_key=model_key,
                count=size,
                queries=queries,
                ef_values=[ef],
                k=self.options["k"],
                category=category,
            )
            latency = point.latency_ms
            matching = int(size * SELECTIVITY[category])
            self.out(
                f"| {category} ({SELECTIVITY[category]:.0%}) | {matching:,} | {ef} | {point.recall:.4f} "
                f"| {point.rows_returned:.2f} | {latency['p50']:.2f} | {latency['p95']:.2f} | {latency['p99']:.2f} "
                f"| {point.plan} |"
            )
        self.out()

    def _hotpath(self, model_key: str) -> None:
        ef, k = settings.SEARCH_EF_SEARCH, self.options["k"]
        results = hotpath.sql_comparison(model_key, self.space.queries(self.options["queries"]), k=k, ef_search=ef)
        count = self.options["queries"]
        self.out(f"Top {k}, ef_search {ef}, {count} queries, the variants interleaved query by query\n")
        self.out("| path | p50 ms | p95 ms | p99 ms | p50 / raw SQL p50 |")
        self.out("|---|---:|---:|---:|---:|")
        raw = next(iter(results.values()))["p50"]
        for name, stats in results.items():
            self.out(
                f"| {name} | {stats['p50']:.2f} | {stats['p95']:.2f} | {stats['p99']:.2f} | {stats['p50'] / raw:.2f} |"
            )
        self.out()

    def _breakdown(self, model_key: str, encoder: ClipEncoder) -> None:
        encoder.model_key = model_key
        texts = endtoend.query_texts(self.options["queries"], salt=f"bd-{time.time_ns()}")
        with endtoend.serving(encoder):
            stages = hotpath.miss_breakdown(endtoend.api_search(), encoder, texts)
        self.out(
            f"Cache miss through POST /api/search/ (Django test client), top 10, {len(texts)} never-seen texts per "
            "path minus 5 warm-up, before and after interleaved text by text\n"
        )
        self.out("| stage | before p50 ms | before mean ms | after p50 ms | after mean ms |")
        self.out("|---|---:|---:|---:|---:|")
        for stage in (*hotpath.STAGES, "total"):
            before, after = stages["before"][stage], stages["after"][stage]
            self.out(
                f"| {stage} | {before['p50']:.2f} | {before['mean']:.2f} | {after['p50']:.2f} | {after['mean']:.2f} |"
            )
        self.out()

    def _updates(self, model_key: str) -> None:
        costs = updates.update_costs(model_key)
        self.out(f"Updates of {costs[0].rows:,} image rows in one statement (median of 3, interleaved, rolled back)\n")
        self.out("| update | ms per row | indexes that grew (KiB, all rounds) |")
        self.out("|---|---:|---|")
        for cost in costs:
            grown = ", ".join(f"{name} {size / 1024:,.0f}" for name, size in sorted(cost.grown.items())) or "none"
            self.out(f"| {cost.name} | {cost.ms_per_row:.3f} | {grown} |")
        self.out()

    def _limit(self, size: int, model_key: str) -> None:
        if not reference.faiss_available():
            self.out("(no faiss: `pip install -r requirements-lab.txt` for the in-process reference)\n")
            return
        k, ef = self.options["k"], settings.SEARCH_EF_SEARCH
        queries = self.space.queries(self.options["queries"])
        exact = exact_neighbours(self.space, queries, count=size, k=k)
        product = hotpath.product_search(model_key, queries, k=k, ef_search=ef)
        recall = mean_recall(product.rows, exact.tolist(), k)
        faiss = reference.faiss_hnsw(
            self.space, count=size, queries=queries, exact=exact, k=k, ef_values=self.options["ef"]
        )
        self.out(
            f"In-process faiss HNSW (M {faiss.m}, ef_construction {faiss.ef_construction}, built in "
            f"{faiss.build_seconds:.1f} s on 2 threads, searched on 1), same {len(queries)} queries, top {k}\n"
        )
        self.out(f"| path | ef_search | recall@{k} | p50 ms | p95 ms | p99 ms |")
        self.out("|---|---:|---:|---:|---:|---:|")
        for point in faiss.points:
            latency = point.latency_ms
            self.out(
                f"| faiss HNSW in-process | {point.ef_search} | {point.recall:.4f} | {latency['p50']:.3f} "
                f"| {latency['p95']:.3f} | {latency['p99']:.3f} |"
            )
        for name, latency in product.latency_ms.items():
            self.out(
                f"| {name} | {ef} | {recall:.4f} | {latency['p50']:.3f} | {latency['p95']:.3f} | {latency['p99']:.3f} |"
            )
        match, interpolated = faiss.at_recall(recall), faiss.p50_at_recall(recall)
        # Where faiss never reaches the product's recall, its best point is the fairest comparison left (faiss
        # at that recall would cost more, or is out of its graph's reach).
        against = "first point at or above it" if match.recall >= recall else "best point, below the product's recall"
        for name, latency in product.latency_ms.items():
            self.out(
                f"\n- {name} p50 / faiss p50: **{latency['p50'] / match.latency_ms['p50']:.1f}x** "
                f"against faiss's {against} (ef_search {match.ef_search}, recall {match.recall:.4f} vs {recall:.4f})"
            )
            if interpolated:
                self.out(
                    f"- {name} p50 / faiss p50 interpolated to recall {recall:.4f} ({interpolated:.3f} ms): "
                    f"**{latency['p50'] / interpolated:.1f}x**"
                )
        self.out()

    def _end_to_end(self, size: int, model_key: str, encoder: ClipEncoder) -> None:
        encoder.model_key = model_key  # search the simulated collection with a ViT-B-32-sized text tower
        n = self.options["queries"]
        salt = f"{time.time_ns()}"
        self.out("| path | cache | p50 ms | p95 ms | p99 ms | mean ms |")
        self.out("|---|---|---:|---:|---:|---:|")
        with endtoend.serving(encoder):
            paths = {
                "search module (search_images)": endtoend.module_search(encoder),
                "POST /api/search/": endtoend.api_search(),
            }
            for name, call in paths.items():
                texts = endtoend.query_texts(n, salt=f"{name[:6]}-{salt}")
                for cache, stats in endtoend.miss_and_hit(call, encoder, texts).items():
                    self.out(
                        f"| {name} | {cache} | {stats['p50']:.1f} | {stats['p95']:.1f} | {stats['p99']:.1f} "
                        f"| {stats['mean']:.1f} |"
                    )
            self.out("\n| path | clients | queries/s (cache miss) |")
            self.out("|---|---:|---:|")
            for clients in self.options["clients"]:
                texts = endtoend.query_texts(n, salt=f"tp{clients}-{salt}")
                rate = endtoend.throughput(paths["POST /api/search/"], texts, clients=clients)
                self.out(f"| POST /api/search/ | {clients} | {rate:.1f} |")
        self.out()

    def _text(self, encoder: ClipEncoder) -> None:
        reference = self.float_encoder
        variants = encoders.text_variants(
            reference, bf16=self.bf16_encoder, shipped=encoder, onnx=True, compile=self.options["compile"]
        )
        results = encoders.time_text_variants(reference, variants, rounds=self.options["text_rounds"])
        self.out(
            f'\nText encoder, {reference.model_name} random weights, query "{encoders.SHORT_QUERY}", batch 1, '
            f"{self.options['text_rounds']} interleaved rounds\n"
        )
        self.out("| variant | p50 ms | p95 ms | p99 ms | max abs diff vs default | min cosine vs default |")
        self.out("|---|---:|---:|---:|---:|---:|")
        for r in results:
            latency = r.latency_ms
            self.out(
                f"| {r.name} | {latency['p50']:.1f} | {latency['p95']:.1f} | {latency['p99']:.1f} "
                f"| {r.max_abs_diff:.2e} | {r.min_cosine:.6f} |"
            )
        self.out()

    def _ingest(self, encoder: ClipEncoder) -> None:
        count = self.options["ingest_images"]
        for width, height in self.options["ingest_sizes"]:
            jpegs = encoders.photo_like_jpegs(count, size=(width, height))
            self.out(
                f"\nImage ingestion, {encoder.model_name} random weights, {count} photo-like JPEGs {width}x{height}, "
                f"batch {encoder.batch_size}\n"
            )
            self.out("| path | images/s | max abs diff vs exact | min cosine vs exact |")
            self.out("|---|---:|---:|---:|")
            for r in encoders.time_image_paths(self.float_encoder, jpegs, bf16=self.bf16_encoder):
                self.out(f"| {r.name} | {r.images_per_s:.1f} | {r.max_abs_diff:.2e} | {r.min_cosine:.6f} |")
            pool = f"pool of {os.cpu_count()}"
            runs = [
                (self.float_encoder, 1, False, "float32, one thread, full decode (first session)"),
                (self.float_encoder, 0, False, f"float32, {pool}, full decode (second session)"),
                (encoder, 0, False, f"{encoder.precision}, {pool}, full decode"),
                (encoder, 0, True, f"{encoder.precision}, {pool}, reduced JPEG decode (shipped)"),
            ]
            for run_encoder, threads, reduced, label in runs:
                with override_settings(INGEST_THREADS=threads, INGEST_REDUCED_DECODE=reduced):
                    rate = encoders.time_full_ingest(run_encoder, jpegs)
                self.out(f"| full images_ingest (files, checks, thumbnails, rows), {label} | {rate:.1f} | | |")
        self.out()
