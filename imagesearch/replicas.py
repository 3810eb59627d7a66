"""Search reads on PostgreSQL streaming replicas (DATABASE_REPLICA_URLS); every write on the primary.

Only reads that ask for it go to a replica: the search selectors run under `replica_reads` (vector, hybrid and
caption search) and browsing lists take `.using(read_alias())`. Everything else (sessions, turns, jobs, sign-in)
reads the primary, so it always sees its own writes. A request that wrote something sets a short-lived cookie
(DATABASE_PIN_SECONDS): the same browser's next requests read the primary too, so an upload or a new turn is found
at once even on a lagging replica.

A replica is used only while it answers and its replay lag is at most DATABASE_REPLICA_MAX_LAG seconds, checked at
most every DATABASE_REPLICA_CHECK_SECONDS per process; otherwise its reads go to the primary. A replica that fails
during a search is marked down and the search runs again on the primary.
"""

from __future__ import annotations

import functools
import random
import threading
import time
from collections.abc import Callable
from contextvars import ContextVar
from dataclasses import dataclass

from asgiref.sync import iscoroutinefunction, markcoroutinefunction
from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, InterfaceError, OperationalError, connections

PIN_COOKIE = "imagesearch_primary"

# Seconds the replica is behind: 0 when it has replayed all it received, else the age of its last replayed commit.
LAG_SQL = """
SELECT CASE
    WHEN NOT pg_is_in_recovery() THEN NULL
    WHEN pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn() THEN 0
    ELSE coalesce(extract(epoch FROM clock_timestamp() - pg_last_xact_replay_timestamp()), 0)
END
"""


@dataclass
class _Request:
    pinned: bool = False  # read everything from the primary (this browser wrote lately)
    wrote: bool = False


@dataclass
class _Health:
    checked_at: float
    lag: float | None  # None: unreachable, or not a replica


_request: ContextVar[_Request | None] = ContextVar("imagesearch_db_request", default=None)
_replica_wanted: ContextVar[bool] = ContextVar("imagesearch_replica_wanted", default=False)
_chosen: ContextVar[list[str] | None] = ContextVar("imagesearch_replica_chosen", default=None)
_health: dict[str, _Health] = {}
_lock = threading.Lock()


def replica_aliases() -> list[str]:
    return list(getattr(settings, "DATABASE_REPLICAS", []))


def read_alias() -> str:
    """Where a search read goes now: a healthy replica, or the primary (none healthy, or this request is pinned)."""
    state = _request.get()
    if state is not None and state.pinned:
        return DEFAULT_DB_ALIAS
    healthy = [alias for alias in replica_aliases() if _usable(alias)]
    return random.choice(healthy) if healthy else DEFAULT_DB_ALIAS


def replica_reads(function: Callable) -> Callable:
    """Run a search selector with its reads on a replica (router), again on the primary if the replica fails."""

    @functools.wraps(function)
    def run(*args, **kwargs):
        if not replica_aliases() or _replica_wanted.get():
            return function(*args, **kwargs)
        wanted, chosen = _replica_wanted.set(True), _chosen.set([])
        try:
            return function(*args, **kwargs)
        except (OperationalError, InterfaceError):
            used = [alias for alias in _chosen.get() or [] if alias != DEFAULT_DB_ALIAS]
            if not used:
                raise
            for alias in used:
                mark_down(alias)
        finally:
            _replica_wanted.reset(wanted)
            _chosen.reset(chosen)
        return function(*args, **kwargs)

    return run


def mark_down(alias: str) -> None:
    with _lock:
        _health[alias] = _Health(time.monotonic(), None)
    connections[alias].close()


def _usable(alias: str) -> bool:
    health = _health.get(alias)
    if health is None or time.monotonic() - health.checked_at > settings.DATABASE_REPLICA_CHECK_SECONDS:
        health = _check(alias)
    return health.lag is not None and health.lag <= settings.DATABASE_REPLICA_MAX_LAG


def _check(alias: str) -> _Health:
    try:
        with connections[alias].cursor() as cursor:
            cursor.execute(LAG_SQL)
            lag = cursor.fetchone()[0]
        health = _Health(time.monotonic(), None if lag is None else float(lag))
    except (OperationalError, InterfaceError):
        connections[alias].close()
        health = _Health(time.monotonic(), None)
    with _lock:
        _health[alias] = health
    return health


def forget_health() -> None:
    """Check every replica again on its next use (tests, after a failover)."""
    with _lock:
        _health.clear()


class ReplicaRouter:
    """Writes and ordinary reads: the primary. Reads inside `replica_reads`: a healthy replica (read_alias)."""

    def db_for_read(self, model, **hints):
        if not _replica_wanted.get():
            return DEFAULT_DB_ALIAS
        alias = read_alias()
        chosen = _chosen.get()
        if chosen is not None:
            chosen.append(alias)
        return alias

    def db_for_write(self, model, **hints):
        state = _request.get()
        if state is not None:
            state.wrote = True
        return DEFAULT_DB_ALIAS

    def allow_relation(self, obj1, obj2, **hints):
        return True  # the replicas hold the primary's rows

    def allow_migrate(self, db, app_label, model_name=None, **hints):
        return db == DEFAULT_DB_ALIAS  # replicas follow the primary's schema


class PrimaryAfterWriteMiddleware:
    """A browser that wrote lately reads the primary for DATABASE_PIN_SECONDS (it sees its own writes)."""

    sync_capable = True
    async_capable = True

    def __init__(self, get_response):
        self.get_response = get_response
        if iscoroutinefunction(get_response):
            markcoroutinefunction(self)

    def __call__(self, request):
        if iscoroutinefunction(self):
            return self._acall(request)
        state, token = self._begin(request)
        try:
            response = self.get_response(request)
        finally:
            _request.reset(token)
        return self._finish(state, response)

    async def _acall(self, request):
        state, token = self._begin(request)
        try:
            response = await self.get_response(request)
        finally:
            _request.reset(token)
        return self._finish(state, response)

    def _begin(self, request):
        state = _Request(pinned=PIN_COOKIE in request.COOKIES)
        return state, _request.set(state)

    def _finish(self, state: _Request, response):
        if state.wrote and replica_aliases():
            response.set_cookie(
                PIN_COOKIE,
                "1",
                max_age=settings.DATABASE_PIN_SECONDS,
                httponly=True,
                samesite="Lax",
                secure=settings.SESSION_COOKIE_SECURE,
            )
        return response
