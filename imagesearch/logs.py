"""Logs: one line per request and per Celery task, as text (development) or JSON (LOG_FORMAT=json), and the request
id that ties them together.

A request's id comes from its X-Request-ID header when that is a sane token, else it is made here; it goes back in
the response's X-Request-ID header, into every log line written while the request runs, and into the headers of
every Celery task queued meanwhile (before_task_publish), so the worker's lines for that task carry it too.
"""

from __future__ import annotations

import contextlib
import contextvars
import json
import logging
import re
import time
import uuid
from datetime import UTC, datetime

from django.utils.functional import empty

request_id_var: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="")

REQUEST_ID_HEADER = "X-Request-ID"
# What a proxy or client may hand us: letters, digits and a few separators, not too long (it lands in every line).
_VALID_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{8,128}$")
# The standard attributes of a LogRecord: everything else on a record came from `extra=` and goes into the JSON.
_RECORD_FIELDS = set(vars(logging.makeLogRecord({}))) | {"message", "asctime", "taskName", "request_tag"}

request_logger = logging.getLogger("imagesearch.requests")
task_logger = logging.getLogger("imagesearch.tasks")


def request_id_from(header: str | None) -> str:
    """The client's (or proxy's) request id when it is a sane token, else a new one."""
    if header and _VALID_REQUEST_ID.match(header):
        return header
    return uuid.uuid4().hex


class RequestIdFilter(logging.Filter):
    """Puts the current request id (or "") on every record, for both formats (text shows it as " [id]")."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not getattr(record, "request_id", ""):
            record.request_id = request_id_var.get()
        record.request_tag = f" [{record.request_id}]" if record.request_id else ""
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, the request id and whatever `extra=` added."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        entry.update({key: value for key, value in vars(record).items() if key not in _RECORD_FIELDS})
        if record.exc_info:
            entry["exc_info"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str)


def logging_config(log_format: str, level: str) -> dict:
    """The LOGGING setting for LOG_FORMAT (json | text) and LOG_LEVEL."""
    text = "%(asctime)s %(levelname)s %(name)s%(request_tag)s: %(message)s"
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"request_id": {"()": "imagesearch.logs.RequestIdFilter"}},
        "formatters": {"text": {"format": text}, "json": {"()": "imagesearch.logs.JsonFormatter"}},
        "handlers": {
            "console": {"class": "logging.StreamHandler", "formatter": log_format, "filters": ["request_id"]},
        },
        # open_clip logs its loading steps at INFO on the root logger; the project's own loggers say what matters.
        "root": {"handlers": ["console"], "level": "WARNING"},
        "loggers": {name: {"level": level} for name in ("search", "accounts", "imagesearch")},
    }


def log_request(request, status: int, duration_s: float, route: str) -> None:
    fields = {
        "method": request.method,
        "route": route,
        "status": status,
        "duration_ms": round(duration_s * 1000, 2),
        "user_id": user_id(request),
        "request_id": request_id_var.get(),
    }
    request_logger.info("%s %s %s %.1f ms", request.method, route, status, duration_s * 1000, extra=fields)


def user_id(request) -> int | None:
    """The user's id if the request has looked its user up already: the log line never costs a query (and, on the
    event loop, a query would not be allowed)."""
    user = getattr(request, "user", None)
    user = getattr(user, "_wrapped", user)  # a lazy user not yet evaluated holds `empty`
    if user is None or user is empty or not getattr(user, "is_authenticated", False):
        return None
    return user.pk


# --- Celery: the request id travels in the task's headers; one line per task ----------------------------------------


def task_publish(headers: dict | None = None, **_kwargs) -> None:
    """before_task_publish: the current request id goes into the task message's headers."""
    request_id = request_id_var.get()
    if headers is not None and request_id and "request_id" not in headers:
        headers["request_id"] = request_id


def task_started(task=None, **_kwargs) -> None:
    """task_prerun: the task runs under the id of the request that queued it (or, run eagerly, the current one)."""
    request_id = getattr(task.request, "request_id", None) or request_id_var.get()
    task.request.imagesearch_log = (request_id_var.set(request_id or ""), time.perf_counter())


def task_finished(task=None, task_id: str = "", state: str | None = None, **_kwargs) -> None:
    """task_postrun: one line for the task (name, id, outcome, duration, request id); the id is reset."""
    token, started = getattr(task.request, "imagesearch_log", (None, time.perf_counter()))
    duration_s = time.perf_counter() - started
    outcome = (state or "unknown").lower()
    fields = {"task": task.name, "task_id": task_id, "outcome": outcome, "duration_ms": round(duration_s * 1000, 2)}
    fields["request_id"] = request_id_var.get()
    task_logger.info("%s %s %s %.1f ms", task.name, task_id, outcome, duration_s * 1000, extra=fields)
    from imagesearch.metrics import task_outcome_count

    task_outcome_count(task.name, outcome)
    if token is not None:
        with contextlib.suppress(ValueError):  # set in another context (a pool thread): nothing of ours to undo
            request_id_var.reset(token)
