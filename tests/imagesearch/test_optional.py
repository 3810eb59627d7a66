"""Optional package groups: the core imports without them, and a feature that needs one names the file to install."""

from __future__ import annotations

import subprocess
import sys

import pytest

from imagesearch.optional import MissingOptionalPackage, require
from imagesearch.procfile import ROOT


def test_a_missing_package_names_its_requirements_file(monkeypatch):
    monkeypatch.setitem(sys.modules, "transformers", None)  # import fails as if it were not installed
    with pytest.raises(MissingOptionalPackage, match=r"'transformers'.*pip install -r requirements-captions\.txt"):
        require("transformers", "captions")


def test_a_fetch_without_aiohttp_says_what_to_install(monkeypatch):
    from search.webfetch import download

    monkeypatch.setitem(sys.modules, "aiohttp", None)
    with pytest.raises(MissingOptionalPackage, match=r"Fetching images from the web.*requirements-web\.txt"):
        download.download_images(["https://example.org/a.jpg"])


def test_the_captioner_without_transformers_says_what_to_install(monkeypatch):
    from search.captioner import Captioner

    monkeypatch.setitem(sys.modules, "transformers", None)
    with pytest.raises(MissingOptionalPackage, match="CAPTION_MODEL"):
        Captioner("Salesforce/blip-image-captioning-base")


def test_the_app_loads_without_any_optional_group():
    """Every URL, view and task module imports with transformers, ddgs, aiohttp and django-storages blocked."""
    script = (
        "import sys; sys.modules.update(dict.fromkeys(['transformers', 'ddgs', 'aiohttp', 'storages'])); "
        "import django; django.setup(); import imagesearch.urls, search.tasks, search.services.fetch; print('ok')"
    )
    env = {"PATH": "/usr/bin:/bin", "SECRET_KEY": "x" * 50, "IMAGESEARCH_ENV_FILE": "/dev/null"}
    env |= {"DJANGO_SETTINGS_MODULE": "imagesearch.settings", "DATABASE_URL": "postgres://u@127.0.0.1:1/none"}
    env |= {"REDIS_URL": "redis://127.0.0.1:1/0"}
    done = subprocess.run([sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True)
    assert done.stdout.strip() == "ok", done.stderr[-2000:]
