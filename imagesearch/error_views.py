"""The answers Django gives when a request fails outside a view's own handling (DEBUG off): the documented JSON
error body under /api/, a plain page elsewhere. Never a traceback: that stays in the server log."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.template import loader

from search.api.errors import error_body

MESSAGES = {
    400: ("bad_request", "The request is malformed."),
    403: ("permission_denied", "You do not have permission to do this."),
    404: ("not_found", "Nothing here."),
    413: ("too_large", "The request is too large."),
    500: ("server_error", "Something went wrong on our side; it has been logged. Please try again."),
}


def error_response(request: HttpRequest, status: int, message: str = "") -> HttpResponse:
    """The error reply for `request`'s interface: JSON under /api/, the site's error page elsewhere."""
    code, default = MESSAGES[status]
    message = message or default
    if request.path.startswith("/api/"):
        return JsonResponse(error_body([{"field": None, "code": code, "message": message}]), status=status)
    if status == 500:  # no request context: whatever failed may fail again while rendering it
        return HttpResponse(loader.get_template("500.html").render(), status=500)
    return render(request, "error.html", {"status": status, "message": message}, status=status)


def bad_request(request: HttpRequest, exception: Exception) -> HttpResponse:
    return error_response(request, 400)


def permission_denied(request: HttpRequest, exception: Exception) -> HttpResponse:
    return error_response(request, 403)


def page_not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    return error_response(request, 404)


def server_error(request: HttpRequest) -> HttpResponse:
    return error_response(request, 500)
