import pytest

from tests.web_fixtures import other_user, user  # noqa: F401


@pytest.fixture(autouse=True)
def open_signup(settings):
    """Sign-up open (a developer's .env may say otherwise); the policy's own tests set it themselves."""
    settings.SIGNUP_POLICY = "open"


@pytest.fixture(autouse=True)
def private_cache(settings):
    """Login failures are counted in the cache: each test counts its own."""
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "accounts"}}
    from django.core.cache import cache

    cache.clear()
