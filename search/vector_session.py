"""The database side of a vector search: HNSW settings kept per pooled connection, the query vector sent in binary.

A search used to open a transaction and run two set_config statements before its SELECT (five round trips). Here
the HNSW settings are set at session level once per physical connection and remembered, so a search on a
connection that already has them is one round trip. Inside a transaction (tests, a caller's atomic block) they are
set for that transaction only, in one statement, since a rollback would take a session-level change away unseen.

The query vector goes to PostgreSQL as pgvector's binary wire format through a server-side binding cursor (Django's
own cursors bind client-side, as text): no 512-number text to format in Python and parse in the server.
"""

from __future__ import annotations

import struct
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np
import psycopg
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import Expression
from pgvector.django import HalfVectorField, VectorField
from psycopg.adapt import Dumper
from psycopg.pq import Format

# strict_order: an iterative scan keeps returning rows, in exact distance order, until LIMIT rows pass the filters.
ITERATIVE_SCAN = "strict_order"


class QueryVector:
    """A query vector as a statement parameter, for a `vector` or `halfvec` (a cast in the SQL names the type)."""

    __slots__ = ("kind", "values")

    def __init__(self, values: np.ndarray, kind: str = "vector") -> None:
        self.values = np.asarray(values, dtype=np.float32)
        self.kind = kind

    def binary(self) -> bytes:
        element = ">f2" if self.kind == "halfvec" else ">f4"  # vector_recv / halfvec_recv: dim, unused, values
        return struct.pack(">HH", len(self.values), 0) + self.values.astype(element).tobytes()

    def text(self) -> bytes:
        return ("[" + ",".join(map(repr, self.values.tolist())) + "]").encode()


class _QueryVectorText(Dumper):
    format = Format.TEXT  # client-side binding (a debug cursor's log line, Django's own cursors)

    def dump(self, obj: QueryVector) -> bytes:
        return obj.text()


class _QueryVectorBinary(Dumper):
    format = Format.BINARY  # oid 0: the server takes the type from the `::vector` / `::halfvec` cast

    def dump(self, obj: QueryVector) -> bytes:
        return obj.binary()


class QueryVectorValue(Expression):
    """The query vector in an ORM expression: `%s::vector` with the vector itself as the parameter."""

    def __init__(self, vector: QueryVector) -> None:
        field = HalfVectorField() if vector.kind == "halfvec" else VectorField()
        super().__init__(output_field=field)
        self.vector = vector

    def as_sql(self, compiler, connection):
        return f"%s::{self.vector.kind}", [self.vector]


@dataclass
class _Session:
    ef_search: int | None = None  # the session-level values this connection has, as far as this process knows
    iterative_scan: str | None = None


_sessions: weakref.WeakKeyDictionary[psycopg.Connection, _Session] = weakref.WeakKeyDictionary()


def register_query_vector(raw: psycopg.Connection) -> None:
    """Let a psycopg connection of its own (a benchmark's) send QueryVector parameters."""
    _session(raw)


def _session(raw: psycopg.Connection) -> _Session:
    session = _sessions.get(raw)
    if session is None:
        # Text first, binary last: the last dumper registered is the one a server-binding cursor picks.
        raw.adapters.register_dumper(QueryVector, _QueryVectorText)
        raw.adapters.register_dumper(QueryVector, _QueryVectorBinary)
        session = _sessions[raw] = _Session()
    return session


@contextmanager
def search_cursor(connection: BaseDatabaseWrapper, *, ef_search: int | None = None) -> Iterator:
    """A server-side binding cursor on `connection` (logged and wrapped like Django's), HNSW settings in place.

    ef_search=None leaves the HNSW settings alone (an exact search).
    """
    connection.ensure_connection()
    connection.validate_thread_sharing()
    raw = connection.connection
    session = _session(raw)
    cursor = psycopg.Cursor(raw)
    wrapped = connection.make_debug_cursor(cursor) if connection.queries_logged else connection.make_cursor(cursor)
    with wrapped:
        if ef_search is not None:
            _apply_hnsw_settings(connection, wrapped, session, ef_search)
        yield wrapped


def _apply_hnsw_settings(connection: BaseDatabaseWrapper, cursor, session: _Session, ef_search: int) -> None:
    if connection.in_atomic_block or not connection.get_autocommit():
        cursor.execute(
            "SELECT set_config('hnsw.ef_search', %s, true), set_config('hnsw.iterative_scan', %s, true)",
            [str(ef_search), ITERATIVE_SCAN],
        )
        return
    if session.ef_search == ef_search and session.iterative_scan == ITERATIVE_SCAN:
        return
    cursor.execute(
        "SELECT set_config('hnsw.ef_search', %s, false), set_config('hnsw.iterative_scan', %s, false)",
        [str(ef_search), ITERATIVE_SCAN],
    )
    session.ef_search, session.iterative_scan = ef_search, ITERATIVE_SCAN
