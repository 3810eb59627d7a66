"""Request-level middleware: limits that apply before any view reads the body, and what each request leaves in
the logs and metrics."""

from __future__ import annotations

import functools
import time

from asgiref.sync import iscoroutinefunction, markcoroutinefunction
from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.urls import reverse

from imagesearch.error_views import error_response
from imagesearch.logs import REQUEST_ID_HEADER, log_request, request_id_from, request_id_var
from imagesearch.metrics import observe_request


class SyncAndAsyncMiddleware:
    """A middleware that runs in the sync and the async chain alike, so the ASGI server never changes threads for
    it: subclasses give `handle` (sync) and `__acall__` (async)."""

    sync_capable = True
    async_capable = True

    def __init__(self, get_response) -> None:
        self.get_response = get_response
        if iscoroutinefunction(get_response):
            markcoroutinefunction(self)

    def __call__(self, request: HttpRequest):
        if iscoroutinefunction(self):
            return self.__acall__(request)
        return self.handle(request)


class RequestSizeLimitMiddleware(SyncAndAsyncMiddleware):
    """Refuse a request whose declared body is over REQUEST_MAX_BYTES with a 413, before a byte of it is read.

    Django checks form fields and JSON against DATA_UPLOAD_MAX_MEMORY_SIZE, but streams uploaded files to disk
    whatever their size; without this, a client could make the server read and store any amount before a view
    looked at the file. Both sync and async, so the ASGI server's middleware chain never changes threads here.
    """

    def handle(self, request: HttpRequest) -> HttpResponse:
        return self.refusal(request) or self.get_response(request)

    async def __acall__(self, request: HttpRequest) -> HttpResponse:
        return self.refusal(request) or await self.get_response(request)

    def refusal(self, request: HttpRequest) -> HttpResponse | None:
        try:
            declared = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            return error_response(request, 400, "The Content-Length header is not a number.")
        limit = settings.REQUEST_MAX_BYTES
        if request.method == "POST" and request.path in batch_upload_paths():
            limit = settings.UPLOAD_BATCH_MAX_BYTES
        if declared > limit:
            limit_mb = limit / (1024 * 1024)
            return error_response(request, 413, f"The request is {declared:,} bytes; the limit is {limit_mb:.1f} MB.")
        return None


@functools.cache
def batch_upload_paths() -> frozenset[str]:
    """The endpoints that add many photos in one request, and so take up to UPLOAD_BATCH_MAX_BYTES (the upload page
    sends its files to the API too)."""
    return frozenset({reverse("api:image_list")})


class RequestObservationMiddleware(SyncAndAsyncMiddleware):
    """Each request's id (X-Request-ID in, made here when absent, and out), its log line and its latency metric.

    First in the chain, so the time and the line cover every other middleware's answer too (a 413, a redirect).
    """

    def handle(self, request: HttpRequest) -> HttpResponse:
        token, started = self._begin(request)
        try:
            return self._end(request, self.get_response(request), started)
        finally:
            request_id_var.reset(token)

    async def __acall__(self, request: HttpRequest) -> HttpResponse:
        token, started = self._begin(request)
        try:
            return self._end(request, await self.get_response(request), started)
        finally:
            request_id_var.reset(token)

    def _begin(self, request: HttpRequest):
        request.request_id = request_id_from(request.headers.get(REQUEST_ID_HEADER))
        return request_id_var.set(request.request_id), time.perf_counter()

    def _end(self, request: HttpRequest, response: HttpResponse, started: float) -> HttpResponse:
        duration = time.perf_counter() - started
        route = route_name(request)
        response[REQUEST_ID_HEADER] = request.request_id
        log_request(request, response.status_code, duration, route)
        observe_request(route, request.method or "", response.status_code, duration)
        return response


def route_name(request: HttpRequest) -> str:
    """The URL pattern's name (`api:search`), never the raw path: a metric label per route, not per image id."""
    match = getattr(request, "resolver_match", None)
    if match is not None and match.view_name:
        return match.view_name
    if request.path.startswith("/" + settings.STATIC_URL.lstrip("/")):
        return "static"
    return "unmatched"
