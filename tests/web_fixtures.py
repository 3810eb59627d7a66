"""Fixtures for the web experience (imported by the conftests of tests/search/web, tests/accounts, tests/browser):
users, logged-in clients, and a small indexed collection of shape pictures."""

from __future__ import annotations

import io

import numpy as np
import pytest

from search.imagefiles import load_image
from search.lab.datasets.shapes import Scene, ShapeSpec, render_scene
from search.services.images import image_create

PASSWORD = "a-long-test-passphrase-42"
# (colour, shape, how many): enough of each for relevance feedback to have something to move toward.
COLLECTION = (("red", "circle", 4), ("blue", "circle", 4), ("red", "square", 4), ("blue", "square", 4))


def shape_png(colour: str, shape: str, seed: int, background: str = "white") -> bytes:
    scene = Scene(objects=(ShapeSpec(shape, colour, "large", "centre"),), background=background)
    image = render_scene(scene, np.random.default_rng(seed))
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


@pytest.fixture
def user(django_user_model):
    return django_user_model.objects.create_user(username="alice", password=PASSWORD)


@pytest.fixture
def other_user(django_user_model):
    return django_user_model.objects.create_user(username="mallory", password=PASSWORD)


@pytest.fixture
def auth_client(client, user):
    client.force_login(user)
    return client


@pytest.fixture(scope="session")
def shape_files(encoder) -> list[tuple[str, bytes, np.ndarray]]:
    """(name, PNG bytes, vector) of each collection picture, rendered and encoded once per test run."""
    files, seed = [], 0
    for colour, shape, count in COLLECTION:
        for _ in range(count):
            seed += 1
            files.append((f"{colour}-{shape}-{seed}.png", shape_png(colour, shape, seed)))
    loaded = [load_image(data, max_pixels=10**7) for _, data in files]
    vectors = encoder.encode_images([item.image for item in loaded])
    return [(name, data, vector) for (name, data), vector in zip(files, vectors, strict=True)]


@pytest.fixture
def collection(shape_files, encoder) -> dict[int, tuple[str, str]]:
    """The shape pictures indexed (files and rows) with the test model; returns {image id: (colour, shape)}."""
    ids = {}
    for name, data, vector in shape_files:
        loaded = load_image(data, max_pixels=10**7)
        image = image_create(
            loaded=loaded, vector=vector, model_key=encoder.model_key, original_name=name, category="shapes"
        )
        ids[image.id] = tuple(name.split("-")[:2])
    return ids
