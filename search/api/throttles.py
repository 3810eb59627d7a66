"""Throttles per user, per anonymous client, and a tighter scope for image uploads and encoding.

Counters live in the default cache. If the cache is down the request passes: throttling protects the service, and
refusing every request because of it would be the outage it is meant to prevent.
"""

from __future__ import annotations

import logging

from rest_framework.settings import api_settings
from rest_framework.throttling import AnonRateThrottle, UserRateThrottle

logger = logging.getLogger(__name__)


class FailOpenMixin:
    def get_rate(self) -> str | None:
        # Read on each request (not frozen at import like DRF's THROTTLE_RATES), so settings overrides apply.
        return api_settings.DEFAULT_THROTTLE_RATES.get(self.scope)

    def allow_request(self, request, view) -> bool:
        try:
            return super().allow_request(request, view)
        except Exception as error:
            logger.warning("Throttle %s skipped, cache unavailable: %s", self.scope, error)
            return True


class UserThrottle(FailOpenMixin, UserRateThrottle):
    scope = "user"


class AnonThrottle(FailOpenMixin, AnonRateThrottle):
    scope = "anon"


class UploadThrottle(FailOpenMixin, UserRateThrottle):
    """Applies to views marked `upload_throttled = True` and to any multipart request (an image upload)."""

    scope = "uploads"

    def allow_request(self, request, view) -> bool:
        heavy = getattr(view, "upload_throttled", False) or request.content_type.startswith("multipart/")
        return super().allow_request(request, view) if heavy else True
