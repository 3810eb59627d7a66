"""Database connections of the served system stay bounded: the pool, not one connection per request thread."""

from __future__ import annotations

import asyncio
import re

from tests.system.client import Browser, api_headers, http_session
from tests.system.stack import POOL_SIZE, WEB_WORKERS, WORKER_CONCURRENCY

REQUESTS = 500
CONCURRENCY = 25
THUMBNAIL = re.compile(r'src="(/images/\d+/thumbnail/)"')


def test_many_requests_leave_a_bounded_number_of_server_connections(system):
    async def scenario():
        async with http_session() as http:
            browser = await Browser(system, http).login()
            session_id = await browser.start_session("a green triangle")
            async with http.get(f"{system.url}/sessions/{session_id}/") as response:
                thumbnails = THUMBNAIL.findall(await response.text())
            paths = [("GET", "/", None), ("GET", "/sessions/", None), ("GET", f"/sessions/{session_id}/", None)]
            paths += [("GET", path, None) for path in thumbnails[:5]]
            paths += [("GET", "/api/images/?page_size=20", None), ("POST", "/api/search/", {"query": "a red circle"})]
            queue = asyncio.Queue()
            for n in range(REQUESTS):
                queue.put_nowait(paths[n % len(paths)])
            statuses = []

            async def client():
                while not queue.empty():
                    method, path, body = queue.get_nowait()
                    headers = api_headers(system) if path.startswith("/api/") else {}
                    async with http.request(method, f"{system.url}{path}", json=body, headers=headers) as response:
                        await response.read()
                        statuses.append(response.status)

            await asyncio.gather(*(client() for _ in range(CONCURRENCY)))
            return statuses

    statuses = asyncio.run(scenario())
    connections = system.sql(
        "SELECT count(*) FROM pg_stat_activity WHERE datname = 'imagesearch' AND pid <> pg_backend_pid()"
    )[0][0]

    assert len(statuses) == REQUESTS
    assert set(statuses) == {200}
    # Each web worker holds at most its pool; each Celery worker process at most one; beat none.
    assert connections <= WEB_WORKERS * POOL_SIZE + WORKER_CONCURRENCY + 1
