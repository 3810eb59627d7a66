"""Readiness checks for /api/health/: each part answers ok or names what is wrong, quickly."""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import urlsplit, urlunsplit

from django.conf import settings
from django.db import connection

from search.encoder import get_encoder

BROKER_TIMEOUT_S = 2.0


class CheckFailed(Exception):
    pass


def check_database() -> dict:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return {"vendor": connection.vendor}


def check_vector_extension() -> dict:
    with connection.cursor() as cursor:
        cursor.execute("SELECT extversion FROM pg_extension WHERE extname = 'vector'")
        row = cursor.fetchone()
    if row is None:
        raise CheckFailed("the pgvector extension is not installed in this database")
    return {"version": row[0]}


def check_encoder() -> dict:
    encoder = get_encoder()
    return {
        "model": encoder.model_key,
        "device": str(encoder.device),
        "dim": encoder.dim,
        "precision": encoder.precision,
        "text_path": encoder.text_path,
    }


def broker_url() -> str:
    """The configured Celery broker, or "" when none is (in-memory brokers do not count)."""
    url = getattr(settings, "CELERY_BROKER_URL", "") or ""
    return "" if url.startswith("memory://") else url


def check_broker() -> dict:
    from kombu import Connection

    url = broker_url()
    with Connection(url, connect_timeout=BROKER_TIMEOUT_S) as broker:
        broker.ensure_connection(max_retries=1, interval_start=0, interval_step=0, timeout=BROKER_TIMEOUT_S)
    return {"url": _without_password(url)}


def system_health() -> dict:
    """{"status": "ok"|"failing", "failing": [part, ...], "checks": {part: {"ok": bool, ...}}}."""
    checks: dict[str, Callable[[], dict]] = {
        "database": check_database,
        "vector_extension": check_vector_extension,
        "encoder": check_encoder,
    }
    if broker_url():
        checks["broker"] = check_broker
    results = {name: _run(check) for name, check in checks.items()}
    failing = [name for name, result in results.items() if not result["ok"]]
    return {"status": "failing" if failing else "ok", "failing": failing, "checks": results}


def _run(check: Callable[[], dict]) -> dict:
    try:
        return {"ok": True, **check()}
    except Exception as error:
        return {"ok": False, "error": f"{type(error).__name__}: {error}"[:500]}


def _without_password(url: str) -> str:
    parts = urlsplit(url)
    if not parts.password:
        return url
    netloc = f"{parts.username or ''}:***@{parts.hostname}" + (f":{parts.port}" if parts.port else "")
    return urlunsplit(parts._replace(netloc=netloc))
