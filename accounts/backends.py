"""The authentication backend: Django's own, refusing locked-out logins (accounts.lockout) on every login form,
the site's and the admin's alike, and counting each failure."""

from __future__ import annotations

from django.contrib.auth.backends import ModelBackend
from django.core.exceptions import PermissionDenied

from accounts.lockout import client_address, login_failed, login_locked, login_succeeded


class LockoutModelBackend(ModelBackend):
    def authenticate(self, request, username=None, password=None, **kwargs):
        if username is None or password is None:
            return super().authenticate(request, username, password, **kwargs)
        address = client_address(request)
        if login_locked(username, address):
            # PermissionDenied stops authentication at once; the login form says why (accounts.forms).
            raise PermissionDenied("too many failed logins")
        user = super().authenticate(request, username, password, **kwargs)
        if user is None:
            login_failed(username, address)
        else:
            login_succeeded(username)
        return user
