"""Django's ASGI handler, with a bound on the requests one web process works on at once.

Django runs each request's synchronous code in a thread of its own. With dozens of requests at once, dozens of
threads take turns on one interpreter lock and one encoder, and the process answers fewer requests a second the
more it is asked (`manage.py loadtest`, docs/benchmarks.md). Waiting in line on the event loop costs nothing, so a
few requests run and the rest wait, in order. Only the work is bounded — middleware and view — not reading a
request's body or streaming a response out, so a slow client never holds a place. Websockets are not counted.
"""

from __future__ import annotations

import asyncio

import django
from django.core.handlers.asgi import ASGIHandler


class BoundedASGIHandler(ASGIHandler):
    def __init__(self, limit: int) -> None:
        super().__init__()
        self.limit = limit
        self._semaphore: asyncio.Semaphore | None = None  # made on the worker's own event loop, at first use

    async def get_response_async(self, request):
        if self._semaphore is None:
            self._semaphore = asyncio.Semaphore(self.limit)
        async with self._semaphore:
            return await super().get_response_async(request)


def bounded_asgi_application(limit: int) -> BoundedASGIHandler:
    """What django.core.asgi.get_asgi_application() returns, bounded to `limit` requests at once."""
    django.setup(set_prefix=False)
    return BoundedASGIHandler(limit)
