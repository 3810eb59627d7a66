"""Which PostgreSQL the project talks to: DATABASE_URL when set, else the embedded server under var/."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import unquote, urlparse

from django.core.exceptions import ImproperlyConfigured


def database_settings(database_url: str | None, var_dir: Path) -> dict:
    if database_url:
        return parse_database_url(database_url)
    from imagesearch.embedded_postgres import embedded_database_settings

    return embedded_database_settings(var_dir / "pgdata")


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
        "CONN_MAX_AGE": 60,
        "CONN_HEALTH_CHECKS": True,
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
