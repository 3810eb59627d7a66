"""At most `limit` requests of a web process inside Django at once; the others wait their turn, none is refused."""

import asyncio

from django.core.handlers.asgi import ASGIHandler

from imagesearch.concurrency import BoundedASGIHandler


def test_requests_beyond_the_limit_wait_and_all_are_answered(monkeypatch):
    inside, most, answered = 0, 0, []

    async def slow_response(self, request):
        nonlocal inside, most
        inside += 1
        most = max(most, inside)
        await asyncio.sleep(0.01)
        inside -= 1
        answered.append(request)
        return request

    monkeypatch.setattr(ASGIHandler, "get_response_async", slow_response)
    handler = BoundedASGIHandler(limit=2)

    async def many():
        await asyncio.gather(*(handler.get_response_async(n) for n in range(10)))

    asyncio.run(many())
    assert most == 2 and sorted(answered) == list(range(10))
