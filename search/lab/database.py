"""The lab's own database: evaluation and synthetic collections never write into the app's collection.

Lab commands that write rows (evaluate, simulate) and the benchmark that reads simulated ones (speed) run against
the database LAB_DATABASE on the same server (default: the app's database name + "_lab"), created and migrated on
first use. `--app-database` (or LAB_DATABASE=app) runs them against the app's own database instead, on purpose.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import psycopg
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand
from django.db import connections
from psycopg import sql

APP = "app"


def lab_database_name() -> str:
    """The database lab commands use: LAB_DATABASE, or the app's database name + "_lab"."""
    if settings.LAB_DATABASE == APP:
        return settings.DATABASES["default"]["NAME"]
    return settings.LAB_DATABASE or f"{settings.DATABASES['default']['NAME']}_lab"


@contextmanager
def database_named(name: str) -> Iterator[None]:
    """The default connection on database `name` of the same server (created and migrated if new), then back."""
    database = settings.DATABASES["default"]
    previous = database["NAME"]
    if name == previous:
        yield
        return
    _ensure_database(database, name)
    _reconnect(name)
    try:
        call_command("migrate", verbosity=0, interactive=False)
        yield
    finally:
        _reconnect(previous)


class LabCommand(BaseCommand):
    """A management command run against the lab's database unless asked for the app's."""

    def create_parser(self, prog_name, subcommand, **kwargs):
        parser = super().create_parser(prog_name, subcommand, **kwargs)
        parser.add_argument(
            "--app-database",
            action="store_true",
            help="run against the app's own database (default: the lab's, LAB_DATABASE, created if needed)",
        )
        return parser

    def execute(self, *args, **options):
        if options.get("app_database"):
            return super().execute(*args, **options)
        with database_named(lab_database_name()):
            return super().execute(*args, **options)


def _ensure_database(database: dict, name: str) -> None:
    params = {"dbname": "postgres", "user": database.get("USER") or None, "password": database.get("PASSWORD") or None}
    params |= {"host": database.get("HOST") or None, "port": database.get("PORT") or None}
    with psycopg.connect(**{key: value for key, value in params.items() if value}, autocommit=True) as admin:
        if not admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def _reconnect(name: str) -> None:
    connection = connections["default"]
    connection.close()
    if getattr(connection, "pool", None) is not None:
        connection.close_pool()  # the pool holds connections to the database being left
    settings.DATABASES["default"]["NAME"] = name
    connection.settings_dict["NAME"] = name
