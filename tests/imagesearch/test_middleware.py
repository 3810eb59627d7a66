"""The request size limit: a body over REQUEST_MAX_BYTES is refused from its Content-Length, before it is read."""

import asyncio

import pytest
from django.http import HttpResponse
from django.test import RequestFactory

from imagesearch.middleware import RequestSizeLimitMiddleware


def _request(length: str, path: str = "/api/search/"):
    request = RequestFactory().post(path, data=b"", content_type="application/json")
    request.META["CONTENT_LENGTH"] = length
    return request


def test_a_declared_body_over_the_limit_is_a_413_and_the_view_never_runs(settings):
    settings.REQUEST_MAX_BYTES = 1000
    calls = []
    middleware = RequestSizeLimitMiddleware(lambda request: calls.append(request) or HttpResponse("ok"))
    assert middleware(_request("999")).status_code == 200
    refused = middleware(_request("1001"))
    assert refused.status_code == 413 and b"limit" in refused.content
    assert len(calls) == 1


def test_a_content_length_that_is_not_a_number_is_a_400():
    middleware = RequestSizeLimitMiddleware(lambda request: HttpResponse("ok"))
    assert middleware(_request("lots")).status_code == 400


@pytest.mark.parametrize(("length", "status"), [("10", 200), ("999999999", 413)])
def test_the_async_chain_is_served_without_leaving_the_event_loop(settings, length, status):
    settings.REQUEST_MAX_BYTES = 1000

    async def view(request):
        return HttpResponse("ok")

    middleware = RequestSizeLimitMiddleware(view)
    assert asyncio.run(middleware(_request(length))).status_code == status
