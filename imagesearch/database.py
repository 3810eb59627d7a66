"""Which PostgreSQL the project talks to (DATABASE_URL when set, else the embedded server under var/), and how.

Connections come from a psycopg pool, bounded per process, never from Django's persistent connections: under the
ASGI server every request runs in a thread of its own, and a connection kept per thread (CONN_MAX_AGE) leaked one
idle server connection per thread until PostgreSQL refused new clients. The pool hands a connection to a request and
takes it back at the end; it checks each one before handing it out, so a restarted server costs no failed request.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlparse

from django.core.exceptions import ImproperlyConfigured


@dataclass(frozen=True)
class PoolLimits:
    max_size: int  # connections one process may hold at once
    timeout: float  # seconds a request waits for a free connection before it fails


def database_settings(database_url: str | None, pgdata: Path, pool: PoolLimits) -> dict:
    """The DATABASES entry: DATABASE_URL, else the embedded server with its data in `pgdata`, pooled either way."""
    if database_url:
        database = parse_database_url(database_url)
    else:
        from imagesearch.embedded_postgres import embedded_database_settings

        database = embedded_database_settings(pgdata)
    return with_pool(database, pool)


def with_pool(database: dict, pool: PoolLimits) -> dict:
    options = dict(database.get("OPTIONS", {}))
    options["pool"] = {
        "min_size": 1,
        "max_size": pool.max_size,
        "timeout": pool.timeout,
        "max_idle": 120,  # idle connections beyond min_size go back to the server after two minutes
    }
    # With a pool, Django's health checks become the pool's check of each connection before it is handed out.
    return {**database, "OPTIONS": options, "CONN_MAX_AGE": 0, "CONN_HEALTH_CHECKS": True}


def parse_database_url(url: str) -> dict:
    """postgres://user:password@host:port/name?host=/socket/dir -> a Django DATABASES entry."""
    parsed = urlparse(url)
    if parsed.scheme not in {"postgres", "postgresql", "pgsql"}:
        raise ImproperlyConfigured(f"DATABASE_URL must be a postgres:// URL, got scheme {parsed.scheme!r}")
    name = unquote(parsed.path.lstrip("/"))
    if not name:
        raise ImproperlyConfigured("DATABASE_URL must name a database, e.g. postgres://user@host:5432/imagesearch")
    options = dict(pair.split("=", 1) for pair in parsed.query.split("&") if "=" in pair)
    return {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": name,
        "USER": unquote(parsed.username or ""),
        "PASSWORD": unquote(parsed.password or ""),
        "HOST": unquote(options.pop("host", parsed.hostname or "")),
        "PORT": str(parsed.port or ""),
        "OPTIONS": options,
    }


MISSING_VECTOR_EXTENSION = (
    "The PostgreSQL server at {where} has no 'vector' extension (pgvector), which imagesearch needs for its "
    "image vectors. Install pgvector on that server (https://github.com/pgvector/pgvector#installation), "
    "or unset DATABASE_URL to use the embedded PostgreSQL that ships with pgvector."
)


def require_vector_extension(connection) -> None:
    """Create the pgvector extension, or stop with a message that says it is missing on this server."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_available_extensions WHERE name = 'vector'")
        if cursor.fetchone() is None:
            where = f"{connection.settings_dict.get('HOST') or 'localhost'}/{connection.settings_dict['NAME']}"
            raise ImproperlyConfigured(MISSING_VECTOR_EXTENSION.format(where=where))
        cursor.execute("CREATE EXTENSION IF NOT EXISTS vector")
