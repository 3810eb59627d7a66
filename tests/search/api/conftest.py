import pytest

from tests.api_fixtures import (  # noqa: F401
    anon,
    api,
    contributor,
    contributor_api,
    other_api,
    other_user,
    rows,
    staff,
    staff_api,
    stored_image,
    user,
)


@pytest.fixture(autouse=True)
def _private_cache(private_cache):
    """Every API test has a cache of its own."""
