"""Image files in a folder by default, or in an S3-compatible bucket configured from the environment."""

import importlib.util

import pytest
from django.core.exceptions import ImproperlyConfigured

from imagesearch.storage import media_storage


def test_the_default_is_a_folder():
    assert media_storage("filesystem")["BACKEND"] == "django.core.files.storage.FileSystemStorage"


@pytest.mark.skipif(importlib.util.find_spec("storages") is None, reason="django-storages is not installed")
def test_a_bucket_from_the_environment(monkeypatch):
    monkeypatch.setenv("S3_BUCKET", "photos")
    monkeypatch.setenv("S3_ENDPOINT_URL", "http://127.0.0.1:9000")
    monkeypatch.setenv("S3_PATH_STYLE", "1")
    storage = media_storage("s3")
    assert storage["BACKEND"] == "storages.backends.s3.S3Storage"
    assert storage["OPTIONS"]["bucket_name"] == "photos" and storage["OPTIONS"]["addressing_style"] == "path"
    assert storage["OPTIONS"]["querystring_auth"] is True and "default_acl" not in storage["OPTIONS"]  # private


def test_a_bucket_needs_a_name(monkeypatch):
    monkeypatch.delenv("S3_BUCKET", raising=False)
    if importlib.util.find_spec("storages") is None:
        with pytest.raises(ImproperlyConfigured, match="django-storages"):
            media_storage("s3")
    else:
        with pytest.raises(ImproperlyConfigured, match="S3_BUCKET"):
            media_storage("s3")
