import io

import numpy as np
import pytest
from django.db import DataError
from PIL import Image as PILImage

from search.imagefiles import load_image
from search.models import Image, ImageSource
from search.services.images import image_create, image_delete
from search.services.ingest import find_image_files, images_ingest
from tests.factories import image_bytes, noise_image_bytes, photo_bytes, png_bomb_bytes

pytestmark = pytest.mark.django_db


def _files_under(root):
    return sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file())


@pytest.fixture
def folder(tmp_path):
    root = tmp_path / "photos"
    (root / "cats" / "indoor").mkdir(parents=True)
    (root / "dogs").mkdir()
    (root / "cats" / "a.jpg").write_bytes(noise_image_bytes(1))
    (root / "cats" / "indoor" / "b.png").write_bytes(noise_image_bytes(2, fmt="PNG"))
    (root / "dogs" / "c.webp").write_bytes(noise_image_bytes(3, fmt="WEBP"))
    (root / "top.gif").write_bytes(image_bytes(fmt="GIF"))
    (root / "notes.txt").write_text("not an image file name")
    return root


def test_ingests_every_image_with_category_from_first_subfolder(folder, encoder):
    report = images_ingest(find_image_files(folder), encoder=encoder)
    assert (report.added, report.present, report.failed) == (4, 0, [])
    categories = dict(Image.objects.values_list("original_name", "category"))
    assert categories == {"a.jpg": "cats", "b.png": "cats", "c.webp": "dogs", "top.gif": ""}


def test_category_option_overrides_folders(folder, encoder):
    images_ingest(find_image_files(folder, category="pets"), encoder=encoder)
    assert set(Image.objects.values_list("category", flat=True)) == {"pets"}


def test_stores_metadata_vector_file_and_thumbnail(folder, encoder, media_root):
    images_ingest(find_image_files(folder / "dogs"), encoder=encoder)
    image = Image.objects.get()
    assert (image.format, image.width, image.height, image.source) == ("WEBP", 96, 72, ImageSource.FOLDER)
    assert image.byte_size == (folder / "dogs" / "c.webp").stat().st_size
    assert image.embedding_model == encoder.model_key
    assert len(image.vector.embedding) == encoder.dim
    assert (media_root / image.file.name).read_bytes() == (folder / "dogs" / "c.webp").read_bytes()
    assert PILImage.open(media_root / image.thumbnail.name).format == "WEBP"


def test_running_twice_adds_nothing(folder, encoder, media_root):
    images_ingest(find_image_files(folder), encoder=encoder)
    files_before = _files_under(media_root)
    report = images_ingest(find_image_files(folder), encoder=encoder)
    assert (report.added, report.present) == (0, 4)
    assert Image.objects.count() == 4
    assert _files_under(media_root) == files_before


def test_same_content_twice_in_one_batch_is_stored_once(tmp_path, encoder):
    (tmp_path / "one.jpg").write_bytes(noise_image_bytes(5))
    (tmp_path / "copy.jpg").write_bytes(noise_image_bytes(5))
    report = images_ingest(find_image_files(tmp_path), encoder=encoder)
    assert (report.added, report.present, Image.objects.count()) == (1, 1, 1)


def test_bad_files_are_reported_and_leave_nothing_behind(tmp_path, encoder, media_root):
    good = noise_image_bytes(9, fmt="PNG")
    (tmp_path / "good.png").write_bytes(good)
    (tmp_path / "truncated.png").write_bytes(good[: len(good) // 2])
    (tmp_path / "text.jpg").write_text("hello, I am not a JPEG")
    (tmp_path / "empty.jpeg").write_bytes(b"")
    (tmp_path / "bomb.png").write_bytes(png_bomb_bytes())
    report = images_ingest(find_image_files(tmp_path), encoder=encoder)
    reasons = {name.rsplit("/", 1)[-1]: reason for name, reason in report.failed}
    assert report.added == 1
    assert set(reasons) == {"truncated.png", "text.jpg", "empty.jpeg", "bomb.png"}
    assert "decompression bomb" in reasons["bomb.png"]
    assert "empty" in reasons["empty.jpeg"]
    assert Image.objects.count() == 1
    assert len(_files_under(media_root)) == 2  # the good image and its thumbnail


def test_failed_row_write_removes_the_files_it_wrote(encoder, media_root):
    loaded = load_image(noise_image_bytes(11), max_pixels=10**8)
    with pytest.raises(DataError):
        image_create(
            loaded=loaded,
            vector=encoder.encode_images([loaded.image])[0],
            model_key=encoder.model_key,
            original_name="x.jpg",
            source="s" * 50,
        )  # too long for the column: Postgres refuses the row
    assert Image.objects.count() == 0
    assert _files_under(media_root) == []


def test_delete_removes_row_and_files(folder, encoder, media_root, django_capture_on_commit_callbacks):
    images_ingest(find_image_files(folder / "dogs"), encoder=encoder)
    with django_capture_on_commit_callbacks(execute=True):
        image_delete(image=Image.objects.get())
    assert Image.objects.count() == 0
    assert _files_under(media_root) == []


def test_thumbnail_is_stored_for_transparent_png(tmp_path, encoder, media_root):
    (tmp_path / "alpha.png").write_bytes(image_bytes(fmt="PNG", mode="RGBA", color=(0, 0, 255, 0), size=(600, 300)))
    images_ingest(find_image_files(tmp_path), encoder=encoder)
    thumbnail = PILImage.open(io.BytesIO((media_root / Image.objects.get().thumbnail.name).read_bytes()))
    assert max(thumbnail.size) <= 320


def test_the_image_work_pool_changes_nothing_but_speed(folder, encoder, settings, media_root):
    (folder / "dogs" / "broken.jpg").write_bytes(b"\xff\xd8 not really a jpeg")

    def ingest_with(threads: int):
        settings.INGEST_THREADS = threads
        report = images_ingest(find_image_files(folder), encoder=encoder, batch_size=3)
        rows = {
            image.original_name: (list(image.vector.embedding), image.thumbnail.read())
            for image in Image.objects.order_by("original_name")
        }
        for image in Image.objects.all():
            image_delete(image=image)
        return report, rows

    serial_report, serial_rows = ingest_with(1)
    pooled_report, pooled_rows = ingest_with(4)
    assert serial_report.failed == pooled_report.failed and len(serial_report.failed) == 1
    assert serial_rows == pooled_rows and len(pooled_rows) == 4


def test_reduced_decoding_stores_the_original_and_changes_vectors_only_slightly(tmp_path, encoder, settings):
    photo = tmp_path / "photos" / "big.jpg"
    photo.parent.mkdir()
    pixels = np.random.default_rng(0).integers(0, 256, (12, 16, 3), dtype=np.uint8)
    buffer = io.BytesIO()  # smooth content, as photos have: a small random image scaled up
    PILImage.fromarray(pixels).resize((1600, 1200), PILImage.Resampling.BICUBIC).save(buffer, format="JPEG")
    photo.write_bytes(buffer.getvalue())

    def ingest(reduced: bool):
        settings.INGEST_REDUCED_DECODE = reduced
        images_ingest(find_image_files(photo.parent), encoder=encoder)
        image = Image.objects.get()
        stored = (image.file.read(), image.width, image.height, PILImage.open(image.thumbnail).size)
        vector = np.array(image.vector.embedding)
        image_delete(image=image)
        return stored, vector

    (full_stored, full_vector), (reduced_stored, reduced_vector) = ingest(False), ingest(True)
    assert reduced_stored == full_stored == (photo.read_bytes(), 1600, 1200, (320, 240))
    assert not np.array_equal(reduced_vector, full_vector)  # the reduced decode really ran
    assert float(reduced_vector @ full_vector) > 0.999


def test_ingest_stores_what_the_photo_says_about_itself(tmp_path, encoder):
    (tmp_path / "paris.jpg").write_bytes(photo_bytes())
    images_ingest(find_image_files(tmp_path), encoder=encoder)
    image = Image.objects.get()
    assert image.taken_at.isoformat() == "2024-06-01T12:30:00+00:00" and image.taken_offset == "+02:00"
    assert (image.camera_make, image.camera_model, image.lens) == (
        "Canon",
        "Canon EOS 5D Mark IV",
        "EF24-70mm f/2.8L II USM",
    )
    assert image.latitude == pytest.approx(48.8584, abs=1e-4) and image.longitude == pytest.approx(2.2945, abs=1e-4)
    assert image.orientation == 1


@pytest.mark.parametrize(
    ("name", "fmt", "stored_format"), [("phone.heic", "HEIF", "HEIF"), ("web.avif", "AVIF", "AVIF")]
)
def test_heic_and_avif_are_ingested_by_content_with_webp_thumbnails(tmp_path, encoder, name, fmt, stored_format):
    (tmp_path / name).write_bytes(noise_image_bytes(9, size=(120, 90), fmt=fmt))
    report = images_ingest(find_image_files(tmp_path), encoder=encoder)
    assert (report.added, report.failed) == (1, [])
    image = Image.objects.get()
    assert image.format == stored_format and (image.width, image.height) == (120, 90)
    assert image.file.name.endswith(f".{name.rsplit('.', 1)[1]}")
    with image.thumbnail.open("rb") as handle:
        thumbnail = PILImage.open(io.BytesIO(handle.read()))
    assert thumbnail.format == "WEBP" and image.thumbnail.name.endswith(".webp")


def test_a_non_image_named_heic_is_refused_with_its_reason(tmp_path, encoder):
    (tmp_path / "fake.heic").write_bytes(b"<html>not a photo</html>")
    report = images_ingest(find_image_files(tmp_path), encoder=encoder)
    assert report.added == 0 and "not an image" in report.failed[0][1] and not Image.objects.exists()
