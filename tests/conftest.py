"""Test set-up: the real embedded PostgreSQL with pgvector, and the project's small CLIP model.

Pretrained weights cannot be downloaded on the project's machines, so tests use imagesearch-tiny: the synthetic-
domain model the project trains itself (tests/fixtures/clip/), loaded through the same code path as ViT-B-32.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from search import encoder as encoder_module

TEST_CLIP_MODEL = "imagesearch-tiny"
SHIPPED_CHECKPOINT = Path(__file__).parent / "fixtures" / "clip" / "imagesearch-tiny.pt"


def pytest_configure(config):
    from django.conf import settings

    from imagesearch.embedded import start_embedded_services
    from imagesearch.redis_server import ensure_embedded_redis, redis_settings

    start_embedded_services()
    # A Redis of the tests' own: tasks, cache entries and channel messages of a test run never reach the development
    # server's queues (a test run used to leave tasks there that the next `make run` worker executed).
    for name, value in redis_settings(ensure_embedded_redis(settings.VAR_DIR / "test-redis")).items():
        setattr(settings, name, value)
    # Lab commands stay in the test database, inside each test's transaction (their own database is tested apart).
    settings.LAB_DATABASE = "app"
    settings.CLIP_MODEL = TEST_CLIP_MODEL
    settings.CLIP_PRETRAINED = str(SHIPPED_CHECKPOINT) if SHIPPED_CHECKPOINT.exists() else ""
    settings.CLIP_BATCH_SIZE = 16
    encoder_module.process_encoder.reset()


@pytest.fixture(scope="session")
def encoder():
    return encoder_module.get_encoder()


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path_factory) -> Path:
    """Each test writes its image files under its own folder, so file-leak assertions see only its own."""
    root = tmp_path_factory.mktemp("media")
    settings.MEDIA_ROOT = root
    return root
