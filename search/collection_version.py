"""A version number of the searchable collection, kept in the cache beside the result pages it guards.

Every write that changes what a search may show (hide, delete, a new category or caption) bumps it once its
transaction commits, and a cached result page is served only if it carries the current version. So a page cached
before a curator's edit is never answered after it, in any process. Like the caches it guards, it fails open.
"""

from __future__ import annotations

import logging
import time

from django.core.cache import cache
from django.db import transaction

logger = logging.getLogger(__name__)

KEY = "search:collection-version"


def collection_changed() -> None:
    """Bump the collection version when the current transaction commits (at once outside a transaction)."""
    # After the commit, not before: a search between the bump and the commit would cache the old rows as new.
    transaction.on_commit(_bump)


def collection_version_start() -> int | None:
    """The version when the cache holds none (first use, flushed, evicted); None if the cache cannot be reached."""
    try:
        # From the clock rather than 0, so a version lost from the cache never returns to a number that pages
        # cached before the loss still carry.
        cache.add(KEY, time.time_ns(), timeout=None)
        return cache.get(KEY)
    except Exception as error:
        logger.warning("Collection version unavailable, result pages not cached: %s", error)
        return None


def _bump() -> None:
    try:
        cache.incr(KEY)
    except ValueError:  # no version yet: whatever starts one is newer than every cached page
        collection_version_start()
    except Exception as error:
        logger.warning("Collection version not bumped, cache unavailable: %s", error)
