"""Fixtures for curation: curators, and a small collection ingested from real image files with near-duplicate copies
(tests of the admin, the duplicate finder and its command)."""

from __future__ import annotations

import io

import pytest
from django.contrib.auth.models import Permission, User
from django.test import Client
from PIL import Image as PILImage
from PIL import ImageDraw

from search.models import Image
from search.services.ingest import find_image_files, images_ingest

CURATOR_PERMISSIONS = ["view_image", "change_image", "delete_image", "view_job", "change_job", "view_searchsession"]


def scene(kind: str) -> PILImage.Image:
    """Three pictures far apart in colour and layout, so even an untrained model keeps them apart (< 0.9)."""
    image = PILImage.new("RGB", (320, 240), {"night": (10, 12, 40), "stripes": (245, 245, 245)}.get(kind, "black"))
    draw = ImageDraw.Draw(image)
    if kind == "night":
        draw.ellipse([30, 40, 170, 180], fill=(250, 220, 40))
        draw.rectangle([220, 150, 290, 220], fill=(220, 30, 30))
    elif kind == "stripes":
        for x in range(0, 320, 40):
            draw.rectangle([x, 0, x + 14, 240], fill=(30, 150, 60))
        draw.polygon([(160, 30), (270, 210), (50, 210)], fill=(40, 70, 220))
    else:
        for x in range(320):
            draw.line([x, 0, x, 240], fill=(230 - x // 3, 40, 60 + x // 2))
        for i in range(0, 320, 64):
            for j in range(0, 240, 64):
                draw.rectangle([i, j, i + 31, j + 31], fill=(250, 250, 250))
    return image


def encoded(image: PILImage.Image, fmt: str = "PNG", **options) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format=fmt, **options)
    return buffer.getvalue()


@pytest.fixture
def collection(tmp_path, encoder) -> dict[str, Image]:
    """night.png with a half-size copy and a JPEG quality-40 copy; stripes.png and checks.png unrelated."""
    folder = tmp_path / "collection"
    folder.mkdir()
    night = scene("night")
    files = {
        "night.png": encoded(night),
        "night-small.png": encoded(night.resize((160, 120), PILImage.Resampling.LANCZOS)),
        "night-q40.jpg": encoded(night, "JPEG", quality=40),
        "stripes.png": encoded(scene("stripes")),
        "checks.png": encoded(scene("checks")),
    }
    for name, data in files.items():
        (folder / name).write_bytes(data)
    report = images_ingest(find_image_files(folder, category="scenes"), encoder=encoder)
    assert report.added == len(files)
    return {image.original_name: image for image in Image.objects.all()}


def _staff(username: str, permissions: list[str]) -> User:
    user = User.objects.create_user(username, password="pw", is_staff=True)
    user.user_permissions.set(Permission.objects.filter(content_type__app_label="search", codename__in=permissions))
    return user


@pytest.fixture
def curator(db) -> User:
    return _staff("curator", CURATOR_PERMISSIONS)


@pytest.fixture
def curator_client(client, curator):
    client.force_login(curator)
    return client


@pytest.fixture
def viewer_client(db):
    """Staff who may look at images but not change them (a client of their own, beside curator_client)."""
    client = Client()
    client.force_login(_staff("viewer", ["view_image", "view_job"]))
    return client
