"""Thumbnails, originals and downloads: only for logged-in users, JPEG conversions valid, zips complete."""

import io
import zipfile

import pytest
from PIL import Image as PILImage

from search.imagefiles import load_image
from search.models import Image
from search.services.images import image_create
from tests.factories import image_bytes, unit_vector

pytestmark = pytest.mark.django_db


def stored_image(data: bytes, name: str) -> Image:
    loaded = load_image(data, max_pixels=10**8)
    return image_create(loaded=loaded, vector=unit_vector(8, 1), model_key="test:model", original_name=name)


def rotated_jpeg() -> bytes:
    """A 40x20 JPEG whose EXIF says 'rotate 90°': shown (and converted) as 20x40."""
    image = PILImage.new("RGB", (40, 20), "green")
    exif = image.getexif()
    exif[0x0112] = 6
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", exif=exif.tobytes())
    return buffer.getvalue()


def test_thumbnail_and_original_are_served_to_logged_in_users(auth_client):
    data = image_bytes("red", fmt="PNG")
    image = stored_image(data, "red.png")
    thumbnail = auth_client.get(f"/images/{image.id}/thumbnail/")
    original = auth_client.get(f"/images/{image.id}/original/")
    assert (thumbnail.status_code, thumbnail["Content-Type"]) == (200, "image/webp")
    assert b"".join(original.streaming_content) == data


def test_hidden_images_are_404(auth_client):
    image = stored_image(image_bytes("red"), "red.jpg")
    Image.objects.filter(id=image.id).update(hidden=True)
    for suffix in ("thumbnail/", "original/", "download/", "download/?format=jpeg"):
        assert auth_client.get(f"/images/{image.id}/{suffix}").status_code == 404


def test_original_download_keeps_the_bytes_and_a_readable_name(auth_client):
    data = image_bytes("red", fmt="PNG")
    image = stored_image(data, "My Holiday Photo!.png")
    response = auth_client.get(f"/images/{image.id}/download/")
    assert b"".join(response.streaming_content) == data  # streamed from storage, not read into memory
    assert response["Content-Type"] == "image/png"
    assert response["Content-Disposition"] == f'attachment; filename="my-holiday-photo-{image.id}.png"'


def test_jpeg_download_flattens_alpha_onto_white(auth_client):
    transparent = image_bytes((255, 0, 0, 0), fmt="PNG", mode="RGBA")
    image = stored_image(transparent, "clear.png")
    response = auth_client.get(f"/images/{image.id}/download/", {"format": "jpeg"})
    assert response["Content-Disposition"] == f'attachment; filename="clear-{image.id}.jpg"'
    converted = PILImage.open(io.BytesIO(response.content))
    converted.load()
    assert (converted.format, converted.mode) == ("JPEG", "RGB")
    assert all(channel > 245 for channel in converted.getpixel((10, 10)))


@pytest.mark.parametrize("fmt", ["WEBP", "GIF"])
def test_jpeg_download_converts_other_formats(auth_client, fmt):
    image = stored_image(image_bytes("blue", fmt=fmt), f"blue.{fmt.lower()}")
    response = auth_client.get(f"/images/{image.id}/download/?format=jpeg")
    converted = PILImage.open(io.BytesIO(response.content))
    assert converted.format == "JPEG" and converted.size == (64, 48)


def test_jpeg_download_applies_the_exif_orientation(auth_client):
    image = stored_image(rotated_jpeg(), "turned.jpg")
    response = auth_client.get(f"/images/{image.id}/download/?format=jpeg")
    assert PILImage.open(io.BytesIO(response.content)).size == (20, 40)


def test_an_unknown_format_is_a_400(auth_client):
    image = stored_image(image_bytes("red"), "red.jpg")
    assert auth_client.get(f"/images/{image.id}/download/?format=tiff").status_code == 400


def test_zip_holds_every_selected_image(auth_client):
    images = [stored_image(image_bytes(color, fmt="PNG"), f"{color}.png") for color in ("red", "green", "blue")]
    response = auth_client.get("/images/download.zip", {"ids": [i.id for i in images], "format": "jpeg"})
    assert response["Content-Type"] == "application/zip"
    assert 'filename="images.zip"' in response["Content-Disposition"]
    bundle = zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content)))
    assert sorted(bundle.namelist()) == sorted(f"{i.original_name[:-4]}-{i.id}.jpg" for i in images)
    for name in bundle.namelist():
        assert PILImage.open(io.BytesIO(bundle.read(name))).format == "JPEG"


@pytest.mark.parametrize(
    ("query", "status"), [("", 400), ("ids=abc", 400), ("ids=999999", 404), ("ids=1&format=bmp", 400)]
)
def test_bad_zip_requests(auth_client, query, status):
    assert auth_client.get(f"/images/download.zip?{query}").status_code == status


def test_zip_is_limited(auth_client, settings):
    settings.DOWNLOAD_ZIP_MAX_IMAGES = 2
    response = auth_client.get("/images/download.zip?ids=1&ids=2&ids=3")
    assert response.status_code == 400 and b"at most 2" in response.content


def test_downloads_need_login(client):
    image = stored_image(image_bytes("red"), "red.jpg")
    assert client.get(f"/images/{image.id}/download/").status_code == 302
    assert client.get(f"/images/download.zip?ids={image.id}").status_code == 302


@pytest.mark.parametrize(("fmt", "content_type"), [("HEIF", "image/heic"), ("AVIF", "image/avif")])
def test_heic_and_avif_round_trip_as_originals_and_as_jpeg(auth_client, fmt, content_type):
    data = image_bytes(color="purple", size=(60, 40), fmt=fmt)
    image = stored_image(data, f"phone.{fmt.lower()}")
    original = auth_client.get(f"/images/{image.id}/download/")
    assert original["Content-Type"] == content_type and b"".join(original.streaming_content) == data
    converted = auth_client.get(f"/images/{image.id}/download/?format=jpeg")
    decoded = PILImage.open(io.BytesIO(converted.content))
    assert (decoded.format, decoded.size) == ("JPEG", (60, 40))
    assert decoded.getpixel((30, 20)) == pytest.approx((128, 0, 128), abs=12)


def test_a_zip_of_nothing_gets_a_page_that_says_what_to_do(auth_client):
    response = auth_client.get("/images/download.zip", {"format": "jpeg"}, HTTP_REFERER="http://testserver/sessions/1/")
    assert response.status_code == 400
    page = response.content.decode()
    assert "Nothing to download yet" in page and "Select at least one image to download" in page
    assert 'href="http://testserver/sessions/1/"' in page and "This field is required" not in page
