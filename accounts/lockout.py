"""Locking out repeated failed logins: per account and per address, counted in the shared cache.

After LOGIN_MAX_FAILURES failed logins for one username, or LOGIN_MAX_FAILURES_PER_ADDRESS from one address, within
LOGIN_LOCKOUT_MINUTES, logins for that username (or from that address) are refused until the window has passed, even
with the right password. A success clears the account's count. Like the other caches it fails open: with the
cache down, logins are not counted rather than all refused.
"""

from __future__ import annotations

import hashlib
import logging

from django.conf import settings
from django.core.cache import cache

logger = logging.getLogger(__name__)


def login_locked(username: str, address: str) -> bool:
    """Whether a login for `username` from `address` must be refused without looking at the password."""
    try:
        counts = cache.get_many([_key("user", username), _key("address", address)])
    except Exception as error:
        logger.warning("Login lockout unavailable, cache down: %s", error)
        return False
    return counts.get(_key("user", username), 0) >= settings.LOGIN_MAX_FAILURES or (
        counts.get(_key("address", address), 0) >= settings.LOGIN_MAX_FAILURES_PER_ADDRESS
    )


def login_failed(username: str, address: str) -> None:
    """Count one failed login against the account and the address."""
    window = settings.LOGIN_LOCKOUT_MINUTES * 60
    try:
        for key in (_key("user", username), _key("address", address)):
            if not cache.add(key, 1, window):
                cache.incr(key)
    except Exception as error:
        logger.warning("Failed login not counted, cache down: %s", error)
        return
    logger.warning("failed login for %r from %s", username[:150], address)


def login_succeeded(username: str) -> None:
    try:
        cache.delete(_key("user", username))
    except Exception as error:
        logger.warning("Login count not cleared, cache down: %s", error)


def client_address(request) -> str:
    """The client's address (REMOTE_ADDR: behind a proxy, the server sets it from the trusted forwarded header)."""
    return (request.META.get("REMOTE_ADDR") or "unknown") if request is not None else "unknown"


def _key(kind: str, value: str) -> str:
    digest = hashlib.sha256(value.strip().lower().encode()).hexdigest()[:32]
    return f"login-failures:{kind}:{digest}"
