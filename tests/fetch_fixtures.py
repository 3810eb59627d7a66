"""Fixtures for web fetching and background work: a local web on 127.0.0.1, DuckDuckGo replaced at its one point,
process-local cache and channel layer (`background_settings`) and recorded caption requests (`caption_requests`).
Tests of jobs and fetching ask for the last two by name (pytest.mark.usefixtures)."""

from __future__ import annotations

import asyncio
import threading
from collections import Counter
from dataclasses import dataclass, field

import pytest
from aiohttp import web

from search.webfetch import ddg
from tests.factories import image_bytes, noise_image_bytes, png_bomb_bytes

HUGE_BYTES = 400_000
SLOW_SECONDS = 3.0


@dataclass
class LocalWeb:
    base: str
    port: int
    hits: Counter = field(default_factory=Counter)

    def url(self, path: str) -> str:
        return f"{self.base}{path}"


def _app(hits: Counter) -> web.Application:
    async def count(request, handler):
        hits[request.path] += 1
        return await handler(request)

    async def image(request):
        seed = int(request.match_info["seed"])
        return web.Response(body=noise_image_bytes(seed), content_type="image/jpeg")

    async def same(request):
        return web.Response(body=image_bytes("teal"), content_type="image/jpeg")

    async def redirect(request):
        raise web.HTTPFound(request.query["to"])

    async def huge_declared(request):
        return web.Response(body=b"\xff" * HUGE_BYTES, content_type="image/jpeg")

    async def huge_streamed(request):
        response = web.StreamResponse(headers={"Content-Type": "image/jpeg"})
        response.enable_chunked_encoding()
        await response.prepare(request)
        for _ in range(HUGE_BYTES // 10_000):
            await response.write(b"\xff" * 10_000)
        return response

    async def fake(request):
        return web.Response(body=b"<html>this is not an image</html>", content_type="image/jpeg")

    async def page(request):
        return web.Response(text="<html>a page</html>", content_type="text/html")

    async def bomb(request):
        return web.Response(body=png_bomb_bytes(), content_type="image/png")

    async def slow(request):
        await asyncio.sleep(SLOW_SECONDS)
        return web.Response(body=noise_image_bytes(99), content_type="image/jpeg")

    app = web.Application(middlewares=[web.middleware(count)])
    app.router.add_get("/img/{seed:\\d+}.jpg", image)
    app.router.add_get("/same/{name}.jpg", same)
    app.router.add_get("/redirect", redirect)
    app.router.add_get("/huge-declared.jpg", huge_declared)
    app.router.add_get("/huge-streamed.jpg", huge_streamed)
    app.router.add_get("/fake.jpg", fake)
    app.router.add_get("/page.html", page)
    app.router.add_get("/bomb.png", bomb)
    app.router.add_get("/slow.jpg", slow)
    return app


@pytest.fixture(scope="session")
def local_web():
    """An aiohttp server on 127.0.0.1 in a thread, playing the web for the fetcher."""
    loop = asyncio.new_event_loop()
    hits: Counter = Counter()
    runner = web.AppRunner(_app(hits))
    loop.run_until_complete(runner.setup())
    site = web.TCPSite(runner, "127.0.0.1", 0)
    loop.run_until_complete(site.start())
    port = site._server.sockets[0].getsockname()[1]
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    yield LocalWeb(base=f"http://127.0.0.1:{port}", port=port, hits=hits)
    asyncio.run_coroutine_threadsafe(runner.cleanup(), loop).result(timeout=10)
    loop.call_soon_threadsafe(loop.stop)
    thread.join(timeout=10)


@pytest.fixture
def background_settings(settings):
    """Only the literal host 127.0.0.1 is exempt from the SSRF checks (never `localhost` or another name)."""
    settings.WEB_FETCH_ALLOWED_HOSTS = ["127.0.0.1"]
    settings.WEB_FETCH_TIMEOUT = 1.0
    settings.WEB_FETCH_MAX_BYTES = 200_000
    settings.WEB_FETCH_CONCURRENCY = 4
    settings.DDG_BACKOFF_SECONDS = 0.0
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    settings.CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
    from django.core.cache import cache

    cache.clear()  # locmem caches live as long as the process; every test starts with an empty one
    return settings


class FakeSearch:
    """Stands in for DuckDuckGo at search.webfetch.ddg._query_ddgs: answers with the URLs a test sets."""

    def __init__(self) -> None:
        self.urls: list[str] = []
        self.calls: list[tuple[str, int]] = []
        self.failures: list[Exception] = []

    def __call__(self, query: str, max_results: int) -> list[ddg.ImageResult]:
        self.calls.append((query, max_results))
        if self.failures:
            raise self.failures.pop(0)
        return [ddg.ImageResult(url=url, title=f"result {n}") for n, url in enumerate(self.urls[:max_results])]


@pytest.fixture
def fake_search(monkeypatch) -> FakeSearch:
    fake = FakeSearch()
    monkeypatch.setattr(ddg, "_query_ddgs", fake)
    return fake


@pytest.fixture
def eager():
    """Tasks run where they are queued (Celery's eager mode), for as long as the test runs."""
    from imagesearch.celery import app

    before = (app.conf.task_always_eager, app.conf.task_eager_propagates)
    app.conf.task_always_eager = app.conf.task_eager_propagates = True
    yield
    app.conf.task_always_eager, app.conf.task_eager_propagates = before


@pytest.fixture
def caption_requests(monkeypatch, settings) -> list:
    """Captioning needs a captioning model; here its task records what it was asked to caption instead."""
    from search.tasks import captions

    settings.CAPTION_MODEL = "a-captioner"  # captioning on, whatever the environment says

    requests: list = []
    monkeypatch.setattr(
        captions.caption_images_task, "apply_async", lambda args, **options: requests.append(sorted(args[0]))
    )
    return requests
