"""Errors outside a view's own handling: the documented JSON body under /api/, a page elsewhere, never a traceback."""

import json

import pytest
from django.test import RequestFactory

from imagesearch.error_views import bad_request, page_not_found, permission_denied, server_error


@pytest.mark.parametrize(
    ("view", "status", "code"),
    [
        (lambda r: bad_request(r, Exception()), 400, "bad_request"),
        (lambda r: permission_denied(r, Exception()), 403, "permission_denied"),
        (lambda r: page_not_found(r, Exception()), 404, "not_found"),
        (server_error, 500, "server_error"),
    ],
)
def test_api_errors_are_the_json_error_body(view, status, code):
    response = view(RequestFactory().get("/api/anything/"))
    body = json.loads(response.content)
    assert response.status_code == status and response["Content-Type"] == "application/json"
    assert body["errors"][0]["code"] == code and body["detail"]


@pytest.mark.django_db
def test_page_errors_are_pages_and_a_500_shows_no_traceback(client):
    request = RequestFactory().get("/sessions/")
    request.user = None
    server = server_error(request)
    assert server.status_code == 500 and b"Something went wrong" in server.content
    assert b"Traceback" not in server.content
    missing = client.get("/no-such-page/")
    assert missing.status_code == 404 and missing["Content-Type"].startswith("text/html")
