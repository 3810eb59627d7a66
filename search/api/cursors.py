"""Search result cursors: where the next page of a vector search starts, tied to the query that made it.

A cursor is opaque to clients: base64url of JSON holding the last hit's exact (distance, id) and a fingerprint of
the query. Used with another query it is refused, rather than answering a page of something else.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from dataclasses import replace

from search.errors import InvalidQuery
from search.query import SearchRequest, SearchResults

VERSION = 1


def next_cursor(request: SearchRequest, results: SearchResults) -> str | None:
    """The cursor of the page after `results`, or None when there is none (a short page, or hybrid mode)."""
    if request.mode != "vector" or len(results.hits) < request.top_k or results.hits[-1].distance is None:
        return None
    last = results.hits[-1]
    state = {"v": VERSION, "d": last.distance, "i": last.id, "q": fingerprint(request)}
    return base64.urlsafe_b64encode(json.dumps(state, separators=(",", ":")).encode()).decode().rstrip("=")


def request_after(request: SearchRequest, cursor: str) -> SearchRequest:
    """`request` continued from `cursor`; InvalidQuery (field "cursor") if it is damaged or from another query."""
    try:
        state = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        position = (float(state["d"]), int(state["i"]))
        valid = isinstance(state, dict) and state.get("v") == VERSION
    except (binascii.Error, ValueError, TypeError, KeyError, UnicodeDecodeError):
        valid = False
    if not valid:
        raise InvalidQuery("The cursor is not valid: use the `next_cursor` of a previous answer.", field="cursor")
    if state.get("q") != fingerprint(request):
        raise InvalidQuery("This cursor belongs to another query: send the same query with it.", field="cursor")
    return replace(request, after=position)


def fingerprint(request: SearchRequest) -> str:
    """What makes a ranking: the query, its image, weights, filters and mode (not top_k: pages may differ)."""
    parts = [
        request.text.strip(),
        request.image.sha256 if request.image is not None else None,
        request.image_weight,
        request.mode,
        request.min_score,
        request.category,
        request.source,
        request.photo.key(),
    ]
    return hashlib.sha256(json.dumps(parts).encode()).hexdigest()[:16]
