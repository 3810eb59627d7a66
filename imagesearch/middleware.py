"""Request-level limits that apply before any view reads the body."""

from __future__ import annotations

import functools

from asgiref.sync import iscoroutinefunction, markcoroutinefunction
from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.urls import reverse

from imagesearch.error_views import error_response


class RequestSizeLimitMiddleware:
    """Refuse a request whose declared body is over REQUEST_MAX_BYTES with a 413, before a byte of it is read.

    Django checks form fields and JSON against DATA_UPLOAD_MAX_MEMORY_SIZE, but streams uploaded files to disk
    whatever their size; without this, a client could make the server read and store any amount before a view
    looked at the file. Both sync and async, so the ASGI server's middleware chain never changes threads here.
    """

    sync_capable = True
    async_capable = True

    def __init__(self, get_response) -> None:
        self.get_response = get_response
        if iscoroutinefunction(get_response):
            markcoroutinefunction(self)

    def __call__(self, request: HttpRequest):
        if iscoroutinefunction(self):
            return self.__acall__(request)
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
