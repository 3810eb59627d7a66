"""One log line per request and per task, JSON when asked, with the request id that follows the work into tasks."""

from __future__ import annotations

import json
import logging

import pytest
from django.http import HttpResponse
from django.test import RequestFactory

from imagesearch import logs
from imagesearch.middleware import RequestObservationMiddleware
from search import background
from tests.fetch_fixtures import eager  # noqa: F401

PURGE = "search.tasks.purge.purge_task"


def _lines(caplog, logger: str) -> list[logging.LogRecord]:
    return [record for record in caplog.records if record.name == logger]


@pytest.mark.django_db
def test_a_request_line_carries_the_callers_request_id_and_the_response_returns_it(client, caplog):
    caplog.set_level(logging.INFO, logger="imagesearch.requests")

    response = client.get("/api/health/", HTTP_X_REQUEST_ID="req-0123456789abcdef")

    assert response["X-Request-ID"] == "req-0123456789abcdef"
    [record] = _lines(caplog, "imagesearch.requests")
    line = json.loads(logs.JsonFormatter().format(record))
    assert line["request_id"] == "req-0123456789abcdef"
    assert (line["method"], line["route"], line["status"], line["user_id"]) == ("GET", "api:health", 200, None)
    assert line["duration_ms"] > 0 and line["level"] == "INFO" and line["logger"] == "imagesearch.requests"


@pytest.mark.parametrize("header", [None, "short", "has spaces in it", "x" * 200, "quote\"injection'0001"])
def test_a_missing_or_unfit_request_id_is_replaced_by_a_new_one(header):
    made = logs.request_id_from(header)
    assert made != header and len(made) == 32 and int(made, 16) >= 0


@pytest.mark.django_db
@pytest.mark.usefixtures("eager")
def test_a_task_queued_during_a_request_logs_the_requests_id(caplog):
    caplog.set_level(logging.INFO, logger="imagesearch")

    def view(request):
        background.queue(PURGE)
        return HttpResponse("queued")

    request = RequestFactory().get("/purge-now/", HTTP_X_REQUEST_ID="req-task-0001-abcdef")
    response = RequestObservationMiddleware(view)(request)

    [task_line] = _lines(caplog, "imagesearch.tasks")
    assert response["X-Request-ID"] == task_line.request_id == "req-task-0001-abcdef"
    assert (task_line.task, task_line.outcome) == (PURGE, "success")
    assert logs.request_id_var.get() == ""  # nothing leaks into whatever runs next


def test_a_published_task_carries_the_request_id_in_its_headers():
    token = logs.request_id_var.set("req-header-0001")
    try:
        headers: dict = {}
        logs.task_publish(headers=headers)
    finally:
        logs.request_id_var.reset(token)
    assert headers["request_id"] == "req-header-0001"


def test_every_record_gets_the_current_request_id_and_json_keeps_extra_fields():
    record = logging.makeLogRecord({"name": "search.x", "msg": "hello %s", "args": ("there",), "levelname": "INFO"})
    record.images = 3
    token = logs.request_id_var.set("req-filter-0001")
    try:
        logs.RequestIdFilter().filter(record)
    finally:
        logs.request_id_var.reset(token)
    line = json.loads(logs.JsonFormatter().format(record))
    assert line["message"] == "hello there" and line["images"] == 3 and line["request_id"] == "req-filter-0001"


def test_log_format_chooses_the_formatter():
    assert logs.logging_config("json", "INFO")["handlers"]["console"]["formatter"] == "json"
    assert logs.logging_config("text", "DEBUG")["loggers"]["search"]["level"] == "DEBUG"


@pytest.mark.django_db
def test_a_signed_in_users_id_is_logged_and_an_unread_lazy_user_costs_no_query(client, django_user_model, caplog):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from django.utils.functional import SimpleLazyObject

    user = django_user_model.objects.create_user("logged", password="a-long-passphrase-0101")
    client.force_login(user)
    caplog.set_level(logging.INFO, logger="imagesearch.requests")
    client.get("/sessions/")
    request = RequestFactory().get("/")
    request.user = SimpleLazyObject(lambda: django_user_model.objects.get(pk=user.pk))

    with CaptureQueriesContext(connection) as queries:
        unread = logs.user_id(request)

    assert _lines(caplog, "imagesearch.requests")[-1].user_id == user.pk
    assert unread is None and len(queries) == 0


def test_text_lines_show_the_request_id_when_there_is_one():
    config = logs.logging_config("text", "INFO")
    formatter = logging.Formatter(config["formatters"]["text"]["format"])
    record = logging.makeLogRecord({"name": "search.x", "msg": "hello", "levelname": "INFO"})
    logs.RequestIdFilter().filter(record)
    assert formatter.format(record).endswith("INFO search.x: hello")
    token = logs.request_id_var.set("req-text-0001")
    try:
        logs.RequestIdFilter().filter(record := logging.makeLogRecord({"name": "search.x", "msg": "hello"}))
    finally:
        logs.request_id_var.reset(token)
    assert formatter.format(record).endswith("search.x [req-text-0001]: hello")
