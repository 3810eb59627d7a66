"""Backfilling photo metadata for images indexed before it was read."""

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage

from search.models import Image
from search.services.metadata import images_metadata_backfill
from tests.factories import command_output, image_bytes, image_row, photo_bytes, unit_vector

pytestmark = pytest.mark.django_db


def stored_row(data: bytes, name: str) -> Image:
    file_name = default_storage.save(f"images/{name}", ContentFile(data))
    return image_row(vector=unit_vector(8, len(name)), model_key="m", file=file_name)


def test_backfill_reads_what_old_rows_lack_and_reports_missing_files():
    photo = stored_row(photo_bytes(), "photo.jpg")
    plain = stored_row(image_bytes(), "plain.jpg")
    gone = image_row(vector=unit_vector(8, 3), model_key="m", file="images/gone.jpg")
    report = images_metadata_backfill()
    assert (report.read, report.found) == (3, 1)
    assert [image_id for image_id, _ in report.failed] == [gone.id]
    photo.refresh_from_db()
    assert photo.camera_model == "Canon EOS 5D Mark IV" and photo.latitude == pytest.approx(48.8584, abs=1e-4)
    plain.refresh_from_db()
    assert plain.taken_at is None and plain.camera_make == ""


def test_backfill_skips_rows_that_have_metadata_unless_asked_for_all():
    photo = stored_row(photo_bytes(), "photo.jpg")
    Image.objects.filter(id=photo.id).update(camera_make="Edited")
    assert images_metadata_backfill().read == 0
    assert images_metadata_backfill(everything=True).found == 1
    photo.refresh_from_db()
    assert photo.camera_make == "Canon"


def test_the_command_prints_its_report():
    stored_row(photo_bytes(), "photo.jpg")
    assert command_output("backfill_metadata").startswith("1 images read, 1 with metadata, 0 failed")
