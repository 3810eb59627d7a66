"""A bounded load on the served system: thirty clients for thirty seconds, mixed pages, files and API calls."""

from __future__ import annotations

import asyncio
import random
import re
import time
from collections import Counter

import aiohttp

from tests.system.client import Browser, api_headers, http_session

CLIENTS = 30
SECONDS = 30
THUMBNAIL = re.compile(r'src="(/images/\d+/thumbnail/)"')
WORDS = ["red", "blue", "green", "large", "small", "circle", "square", "triangle", "left", "right", "top"]


def test_thirty_clients_for_thirty_seconds_get_no_server_error(system):
    async def scenario():
        async with http_session(timeout=aiohttp.ClientTimeout(total=60)) as http:
            browser = await Browser(system, http).login()
            session_id = await browser.start_session("a small yellow circle")
            async with http.get(f"{system.url}/sessions/{session_id}/") as response:
                thumbnails = THUMBNAIL.findall(await response.text())
            outcomes: Counter = Counter()
            deadline = time.monotonic() + SECONDS

            async def client(seed: int):
                rng = random.Random(seed)
                while time.monotonic() < deadline:
                    method, path, body = _request(rng, session_id, thumbnails)
                    headers = api_headers(system) if path.startswith("/api/") else {}
                    try:
                        async with http.request(method, f"{system.url}{path}", json=body, headers=headers) as reply:
                            await reply.read()
                            outcomes[reply.status // 100 * 100] += 1
                    except (aiohttp.ClientError, TimeoutError) as error:
                        outcomes[type(error).__name__] += 1

            await asyncio.gather(*(client(seed) for seed in range(CLIENTS)))
            return outcomes

    outcomes = asyncio.run(scenario())

    assert set(outcomes) == {200}, outcomes
    assert outcomes[200] > CLIENTS * SECONDS  # more than one answer a second per client on average


def _request(rng: random.Random, session_id: int, thumbnails: list[str]) -> tuple[str, str, dict | None]:
    roll = rng.random()
    if roll < 0.5:  # a new description most of the time: a cache miss, so the encoder and the index work
        query = " ".join(rng.sample(WORDS, 3))
        return "POST", "/api/search/", {"query": query, "top_k": 20}
    if roll < 0.7:
        return "GET", rng.choice(thumbnails), None
    if roll < 0.8:
        return "GET", f"/sessions/{session_id}/", None
    if roll < 0.9:
        return "GET", "/api/images/?page_size=50", None
    return "GET", "/api/health/", None
