"""Starting the embedded servers (PostgreSQL, Redis) that stand in for DATABASE_URL and REDIS_URL when they are unset.

Called by every entry point before it needs them (manage.py, the ASGI application, the Celery worker and beat, the
test session), never by settings: importing settings stays free of work. Both servers are shared by every process
and keep running until `make stop`; starting one that runs already only checks that it answers.
"""

from __future__ import annotations

from django.conf import settings


def start_embedded_services() -> None:
    """Start whichever embedded server the settings use; a no-op for configured external ones."""
    if settings.EMBEDDED_PGDATA is not None:
        from imagesearch.embedded_postgres import start_embedded_postgres

        database = settings.DATABASES["default"]
        # The server decides its socket folder (the data folder unless that path is too long for a socket).
        database["HOST"] = start_embedded_postgres(
            settings.EMBEDDED_PGDATA, database["NAME"], shared_buffers=settings.EMBEDDED_POSTGRES_SHARED_BUFFERS
        )
    if settings.EMBEDDED_REDIS_DIR is not None:
        from imagesearch.redis_server import ensure_embedded_redis

        ensure_embedded_redis(settings.EMBEDDED_REDIS_DIR)
