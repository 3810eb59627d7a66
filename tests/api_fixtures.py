"""Fixtures for the JSON API: a private cache per test (`private_cache`: the shared Redis would mix runs), users,
tokens and clients, and indexed rows to search."""

from __future__ import annotations

import itertools

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from rest_framework.test import APIClient

from accounts.services import token_create
from search.api.latency import recorder
from search.imagefiles import load_image
from search.services.images import image_create
from search.vector_index import ensure_hnsw_index
from tests.factories import image_row, noise_image_bytes, unit_vector

_cache_names = itertools.count()


@pytest.fixture
def private_cache(settings):
    """A process-local cache of this test's own: throttle counters and cached results never leak between tests."""
    settings.CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": f"api-{next(_cache_names)}"}
    }
    recorder.clear()


@pytest.fixture
def user(db):
    return get_user_model().objects.create_user("alice")  # no password: hashing one costs ~0.5 s


@pytest.fixture
def other_user(db):
    return get_user_model().objects.create_user("bob")


@pytest.fixture
def contributor(db):
    """A user who may add images to the shared collection (search.add_image)."""
    user = get_user_model().objects.create_user("dora")
    user.user_permissions.add(Permission.objects.get(codename="add_image", content_type__app_label="search"))
    return user


@pytest.fixture
def contributor_api(contributor) -> APIClient:
    return client_for(contributor)


@pytest.fixture
def staff(db):
    return get_user_model().objects.create_user("carol", is_staff=True)


def client_for(user) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token_create(user=user, name='tests').key}")
    return client


@pytest.fixture
def api(user) -> APIClient:
    return client_for(user)


@pytest.fixture
def other_api(other_user) -> APIClient:
    return client_for(other_user)


@pytest.fixture
def staff_api(staff) -> APIClient:
    return client_for(staff)


@pytest.fixture
def anon() -> APIClient:
    return APIClient()


@pytest.fixture
def rows(db, encoder):
    """60 rows with random vectors of the test model, a third of them in category "rare"."""
    ensure_hnsw_index(encoder.model_key, encoder.dim)
    return [
        image_row(
            vector=unit_vector(encoder.dim, seed),
            model_key=encoder.model_key,
            category="rare" if seed % 3 == 0 else "common",
            caption=f"caption {seed}",
        )
        for seed in range(60)
    ]


@pytest.fixture
def stored_image(db, encoder):
    """One image with real files (original PNG + thumbnail), embedded with the test model."""
    ensure_hnsw_index(encoder.model_key, encoder.dim)  # before any insert: DDL cannot follow pending FK triggers
    loaded = load_image(noise_image_bytes(1, fmt="PNG"), max_pixels=10**8)
    vector = encoder.encode_images([loaded.image])[0]
    return image_create(loaded=loaded, vector=vector, model_key=encoder.model_key, original_name="noise.png")
