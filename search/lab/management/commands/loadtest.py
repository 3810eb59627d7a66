"""Load the served application over real HTTP on loopback and print requests/s and latency percentiles.

Starts a stack of its own (the Procfile's web command, gunicorn with uvicorn workers, on an embedded PostgreSQL and
Redis in a temporary folder), so it never touches the app's own database, and measures POST /api/search/ with 1, 8,
32 and 64 closed-loop clients, cache misses and hits, with 1 and then 2 worker processes in the same run.
`--collection KEY` serves a simulated collection of the lab's database instead of demo images (a million rows from
`simulate --count 1000000`; the encoder must make vectors of its length, e.g. --clip-model ViT-B-32
--clip-pretrained random), searched with the VECTOR_INDEX of this command's environment.
"""

from __future__ import annotations

from urllib.parse import quote

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from search.lab.database import database_named, lab_database_name
from search.lab.speed.http_load import Collection, LoadResult, prepared_stack, run_load
from search.lab.speed.synthetic import SIMULATED_PREFIX
from search.models import Image


class Command(BaseCommand):
    help = "POST /api/search/ through the real server: clients x cache miss/hit x web worker processes."

    def add_arguments(self, parser):
        parser.add_argument("--clients", default="1,8,32,64", help="comma-separated client counts")
        parser.add_argument("--processes", default="1,2", help="comma-separated web worker process counts")
        parser.add_argument(
            "--in-flight",
            default="",
            help="comma-separated WEB_REQUESTS_PER_WORKER values to compare (default: the setting)",
        )
        parser.add_argument("--seconds", type=float, default=15.0, help="duration of each measurement")
        parser.add_argument("--images", type=int, default=400, help="demo images in the collection")
        parser.add_argument("--clip-model", default=settings.CLIP_MODEL)
        parser.add_argument("--clip-pretrained", default=settings.CLIP_PRETRAINED)
        parser.add_argument(
            "--collection", default="", help="serve this simulated collection of the lab's database (its model key)"
        )

    def handle(self, **options):
        try:
            clients = [int(n) for n in options["clients"].split(",")]
            processes = [int(n) for n in options["processes"].split(",")]
            limits = [int(n) for n in options["in_flight"].split(",")] if options["in_flight"] else [None]
        except ValueError:
            raise CommandError("--clients and --processes are comma-separated numbers") from None
        results: list[LoadResult] = []
        self.stdout.write(
            "| processes | in flight | cache | clients | requests/s | p50 ms | p95 ms | p99 ms | errors |"
        )
        self.stdout.write("|---:|---:|---|---:|---:|---:|---:|---:|---:|")
        model, pretrained = options["clip_model"], options["clip_pretrained"]
        collection = _collection(options["collection"]) if options["collection"] else None
        with prepared_stack(
            model=model, pretrained=pretrained, images=options["images"], collection=collection
        ) as prepared:
            for workers in processes:
                for limit in limits:
                    with prepared.web(workers, limit) as target:
                        for mode in ("miss", "hit"):
                            for count in clients:
                                result = run_load(
                                    target,
                                    processes=workers,
                                    in_flight=limit,
                                    mode=mode,
                                    clients=count,
                                    seconds=options["seconds"],
                                )
                                results.append(result)
                                self.stdout.write(_row(result))
        self.stdout.write("")
        for line in summary(results):
            self.stdout.write(line)


def _collection(model_key: str) -> Collection:
    """The simulated collection `model_key` in the lab's database, on the server this command uses."""
    if not model_key.startswith(SIMULATED_PREFIX):
        raise CommandError(f"--collection takes a simulated collection's key ({SIMULATED_PREFIX}...)")
    database = settings.DATABASES["default"]
    name = lab_database_name()
    with database_named(name):
        if not Image.objects.filter(vector__embedding_model=model_key).exists():
            raise CommandError(f"no collection {model_key} in the database {name}: `manage.py simulate --list`")
    user = quote(database.get("USER") or "")
    password = f":{quote(database['PASSWORD'])}" if database.get("PASSWORD") else ""
    host = database.get("HOST") or ""
    if host.startswith("/"):  # a socket folder (the embedded server)
        url = f"postgres://{user}{password}@/{quote(name)}?host={host}"
    else:
        url = f"postgres://{user}{password}@{host}:{database.get('PORT') or 5432}/{quote(name)}"
    return Collection(database_url=url, model_key=model_key, vector_index=settings.VECTOR_INDEX)


def _row(r: LoadResult) -> str:
    cells = [r.processes, r.in_flight or "default", r.mode, r.clients, f"{r.per_second:.1f}"]
    cells += [f"{r.p50:.1f}", f"{r.p95:.1f}", f"{r.p99:.1f}", r.errors]
    return "| " + " | ".join(str(cell) for cell in cells) + " |"


def summary(results: list[LoadResult]) -> list[str]:
    """The issue's targets, as ratios from this run."""
    by = {(r.processes, r.mode, r.clients): r for r in results if r.in_flight == results[0].in_flight}
    lines = []
    errors = sum(r.errors for r in results)
    lines.append(f"errors over the whole run: {errors}")
    lines.append(f"answers without results: {sum(r.empty for r in results)}")
    for r in results:
        if r.clients == 1 and r.server_ms:
            # What the server says it spent (the answer's latency_ms), against what the client waited.
            parts = ", ".join(f"{part} {spent:.1f}" for part, spent in r.server_ms.items())
            outside = r.p50 - r.server_ms.get("total", 0.0)
            lines.append(
                f"{r.processes} process(es), 1 client, {r.mode}: client p50 {r.p50:.1f} ms; server p50 {parts} ms; "
                f"outside the view (HTTP, ASGI, middleware, auth) ~{outside:.1f} ms"
            )
    for workers in sorted({r.processes for r in results}):
        single, busy = by.get((workers, "miss", 1)), by.get((workers, "miss", 32))
        if single and busy and single.p50:
            lines.append(
                f"{workers} process(es): p50 at 32 clients / p50 at 1 client (miss) = {busy.p50 / single.p50:.2f}"
            )
    for count in sorted({r.clients for r in results}):
        one, two = by.get((1, "miss", count)), by.get((2, "miss", count))
        if one and two and one.per_second:
            lines.append(
                f"{count} clients: miss requests/s with 2 processes / with 1 = {two.per_second / one.per_second:.2f}"
            )
    return lines
