"""Load on the served application over real HTTP on loopback: closed-loop clients, each sending its next request
as soon as the previous one is answered, against a stack started from the Procfile in a folder of its own.

A cache miss asks for a description nobody asked before (the encoder and the index work); a cache hit repeats one
of a few descriptions that were asked before the measurement. The load generator shares the machine with the
server, as it does on loopback anywhere: on a 2-core machine it takes part of a core at high request rates.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import random
import tempfile
import time
import uuid
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp
import numpy as np

from imagesearch.procfile import (
    Stack,
    free_port,
    isolated_environment,
    prepare,
    procfile_commands,
    stop_embedded_servers,
    wait_until_healthy,
)
from search.lab.speed.stats import percentiles

WORDS = ("red", "blue", "green", "yellow", "purple", "large", "small", "circle", "square", "triangle", "left", "right")
HIT_QUERIES = ("a large red circle", "a small blue square", "a green triangle on the left")
# `--collection`: the web command's configuration, and the variable it reads the collection's model key from.
SERVED_COLLECTION_CONFIG = "search.lab.speed.served_collection"
COLLECTION_VARIABLE = "LAB_COLLECTION_MODEL_KEY"


@dataclass(frozen=True)
class LoadResult:
    processes: int
    in_flight: int | None  # WEB_REQUESTS_PER_WORKER (None: the setting's default)
    mode: str  # "miss" | "hit"
    clients: int
    seconds: float
    answered: int
    errors: int  # 5xx, other non-2xx and connection errors together
    p50: float
    p95: float
    p99: float
    empty: int = 0  # answers (200) without a single result: a benchmark of searches that found nothing
    # p50 of what the server says it spent (the answer's latency_ms: encode, search, and the view's total)
    server_ms: dict[str, float] = field(default_factory=dict)

    @property
    def per_second(self) -> float:
        return self.answered / self.seconds


@dataclass(frozen=True)
class Target:
    url: str
    token: str


@dataclass
class PreparedStack:
    """A stack in a folder of its own, migrated, with demo images and a user with a token; web processes on demand."""

    stack: Stack
    port: int
    token: str

    @contextmanager
    def web(self, workers: int, requests_per_worker: int | None = None) -> Iterator[Target]:
        """The Procfile's web command with `workers` processes, until the block ends."""
        self.stack.env["WEB_WORKERS"] = str(workers)
        self.stack.env.pop("WEB_REQUESTS_PER_WORKER", None)
        if requests_per_worker is not None:
            self.stack.env["WEB_REQUESTS_PER_WORKER"] = str(requests_per_worker)
        self.stack.start("web")
        try:
            url = f"http://127.0.0.1:{self.port}"
            wait_until_healthy(f"{url}/api/health/", processes=self.stack.processes)
            target = Target(url, self.token)
            # A fresh process's first requests pay for lazy set-up (pools, caches, code paths): not measured.
            run_load(target, processes=workers, in_flight=requests_per_worker, mode="miss", clients=8, seconds=3)
            yield target
        finally:
            self.stack.stop("web")


@dataclass(frozen=True)
class Collection:
    """A simulated collection to serve instead of demo images: its database and its rows' model key."""

    database_url: str
    model_key: str
    vector_index: str


@contextmanager
def prepared_stack(
    *, model: str, pretrained: str, images: int, collection: Collection | None = None
) -> Iterator[PreparedStack]:
    with tempfile.TemporaryDirectory(prefix="imagesearch-load-") as scratch:
        folder = Path(scratch)
        (folder / "logs").mkdir()
        port = free_port()
        env = isolated_environment(
            folder,
            port,
            CLIP_MODEL=model,
            CLIP_PRETRAINED=pretrained,
            # The benchmark's one user must not meet the per-user rate: the server's capacity is what is measured.
            API_THROTTLE_USER="100000000/minute",
        )
        commands = procfile_commands()
        if collection is not None:
            env |= {
                "DATABASE_URL": collection.database_url,
                "VECTOR_INDEX": collection.vector_index,
                COLLECTION_VARIABLE: collection.model_key,
            }
            served = f"python:{SERVED_COLLECTION_CONFIG}"
            commands["web"] = commands["web"].replace("python:imagesearch.gunicorn", served)
            images = 0
        username = f"load-{uuid.uuid4().hex[:8]}"  # a collection's database keeps the users of earlier runs
        token = prepare(env, folder, demo_images=images, username=username, password="a-long-load-passphrase-19")
        stack = Stack(env=env, log_dir=folder / "logs", commands=commands)
        try:
            yield PreparedStack(stack, port, token)
        finally:
            stack.stop()
            stop_embedded_servers(env, folder)


def run_load(
    target: Target, *, processes: int, in_flight: int | None, mode: str, clients: int, seconds: float
) -> LoadResult:
    """`clients` closed-loop clients on POST /api/search/ for `seconds`."""
    return asyncio.run(_load(target, (processes, in_flight), mode, clients, seconds))


async def _load(target: Target, setup: tuple, mode: str, clients: int, seconds: float) -> LoadResult:
    headers = {"Authorization": f"Token {target.token}"}
    connector = aiohttp.TCPConnector(limit=clients)
    async with aiohttp.ClientSession(connector=connector, headers=headers) as http:
        if mode == "hit":
            for query in HIT_QUERIES:  # cached before the clock starts
                await _search(http, target.url, query)
        texts = _queries(mode)
        latencies: list[float] = []
        server: dict[str, list[float]] = defaultdict(list)
        errors = empty = 0
        deadline = time.monotonic() + seconds

        async def client() -> None:
            nonlocal errors, empty
            while time.monotonic() < deadline:
                started = time.perf_counter()
                answer = await _search(http, target.url, next(texts))
                if answer is None:
                    errors += 1
                    continue
                latencies.append((time.perf_counter() - started) * 1000)
                empty += not answer["results"]
                for part, spent in answer["latency_ms"].items():
                    server[part].append(spent)

        started = time.monotonic()
        await asyncio.gather(*(client() for _ in range(clients)))
        elapsed = time.monotonic() - started
    points = percentiles(latencies) if latencies else {"p50": 0.0, "p95": 0.0, "p99": 0.0}
    server_ms = {part: float(np.median(spent)) for part, spent in server.items()}
    return LoadResult(
        *setup,
        mode,
        clients,
        elapsed,
        len(latencies),
        errors,
        points["p50"],
        points["p95"],
        points["p99"],
        empty,
        server_ms,
    )


async def _search(http: aiohttp.ClientSession, url: str, query: str) -> dict | None:
    """The search's answer; None for an error."""
    try:
        async with http.post(f"{url}/api/search/", json={"query": query, "top_k": 10}) as response:
            body = await response.read()
            return json.loads(body) if response.status == 200 else None
    except (aiohttp.ClientError, TimeoutError):
        return None


def _queries(mode: str) -> Iterator[str]:
    if mode == "hit":
        return itertools.cycle(HIT_QUERIES)
    rng = random.Random(7)
    run = uuid.uuid4().hex[:8]
    # Never the same text twice, in this run or an earlier one (the text-vector cache keeps texts for a day): three
    # words, a counter and the run's own mark, so every request misses both caches.
    return (f"{' '.join(rng.sample(WORDS, 3))} number {n} {run}" for n in itertools.count())
