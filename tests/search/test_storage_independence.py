"""Every file the app touches goes through Django's storage API: the whole life of an image — ingest, search,
thumbnail, original, download, zip, caption, purge, delete — with a media storage that has no local path at all
(tests.factories.PathlessStorage: Django's InMemoryStorage with path() refused). S3-compatible storage
(django-storages) takes the same calls."""

import io
import zipfile
from datetime import timedelta

import pytest
from django.core.files.storage import default_storage
from django.utils import timezone
from PIL import Image as PILImage

from search.models import Image, QueryImage, SearchSession
from search.query import SearchRequest
from search.selectors.search import search_images
from search.services.captions import images_caption
from search.services.images import image_delete
from search.services.ingest import find_image_files, images_ingest
from search.services.purge import temporary_files_purge
from search.services.sessions import query_image_store, session_create
from tests.factories import image_bytes, noise_image_bytes

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def storage_without_paths(settings):
    settings.STORAGES = {**settings.STORAGES, "default": {"BACKEND": "tests.factories.PathlessStorage"}}
    with pytest.raises(NotImplementedError):
        default_storage.path("anything")


@pytest.fixture
def indexed(tmp_path, encoder) -> list[Image]:
    (tmp_path / "a.png").write_bytes(noise_image_bytes(71, fmt="PNG"))
    (tmp_path / "b.jpg").write_bytes(image_bytes("teal"))
    report = images_ingest(find_image_files(tmp_path), encoder=encoder)
    assert report.added == 2
    return list(Image.objects.order_by("original_name"))


def test_ingest_writes_originals_and_thumbnails_to_the_storage(indexed):
    for image in indexed:
        assert default_storage.exists(image.file.name) and default_storage.exists(image.thumbnail.name)
    assert PILImage.open(default_storage.open(indexed[0].thumbnail.name)).format == "WEBP"


def test_search_finds_what_was_ingested(indexed, encoder):
    with default_storage.open(indexed[0].file.name) as handle:
        data = handle.read()
    from search.query import load_upload

    hits = search_images(SearchRequest(image=load_upload(data), top_k=2), encoder=encoder).hits
    assert hits[0].id == indexed[0].id


def test_files_reach_the_browser(indexed, auth_client):
    image = indexed[0]
    thumbnail = auth_client.get(f"/images/{image.id}/thumbnail/")
    assert thumbnail.status_code == 200 and b"".join(thumbnail.streaming_content)[:4] == b"RIFF"
    original = auth_client.get(f"/images/{image.id}/download/")
    assert b"".join(original.streaming_content).startswith(b"\x89PNG")
    jpeg = auth_client.get(f"/images/{image.id}/download/", {"format": "jpeg"})
    assert PILImage.open(io.BytesIO(jpeg.content)).format == "JPEG"
    bundle = auth_client.get("/images/download.zip", {"ids": [image.id, indexed[1].id]})
    names = zipfile.ZipFile(io.BytesIO(b"".join(bundle.streaming_content))).namelist()
    assert sorted(names) == sorted([f"a-{indexed[0].id}.png", f"b-{indexed[1].id}.jpg"])


def test_captions_read_the_stored_files(indexed, captioner, encoder):
    report = images_caption(captioner=captioner, encoder=encoder)
    assert (report.captioned + report.unchanged, report.failed) == (2, [])


def test_purge_lists_dates_and_deletes_through_the_storage(user, django_capture_on_commit_callbacks):
    session = session_create(user=user)
    query = query_image_store(session=session, data=image_bytes("red"), original_name="q.jpg")
    SearchSession.objects.filter(pk=session.pk).update(updated_at=timezone.now() - timedelta(days=1))
    with django_capture_on_commit_callbacks(execute=True):
        report = temporary_files_purge(now=timezone.now() + timedelta(days=1))
    assert report.query_images == 1 and not QueryImage.objects.exists()
    assert not default_storage.exists(query.file.name)


def test_deleting_an_image_deletes_its_files(indexed, django_capture_on_commit_callbacks):
    image = indexed[0]
    with django_capture_on_commit_callbacks(execute=True):
        image_delete(image=image)
    assert not default_storage.exists(image.file.name) and not default_storage.exists(image.thumbnail.name)
