"""Stored files delivered to clients: streamed originals, JPEG conversions, zips, and a 404 when a file is gone."""

import asyncio
import io
import warnings
import zipfile

import pytest
from django.http import Http404
from PIL import Image as PILImage

from search.files import FileStream, download_response, file_response, images_zip, load_stored_images
from search.imagefiles import load_image
from search.models import Image
from search.services.images import image_create
from tests.factories import image_bytes, noise_image_bytes

pytestmark = pytest.mark.django_db


def _stored(data: bytes, name: str, encoder) -> Image:
    loaded = load_image(data, max_pixels=10**8)
    vector = encoder.encode_images([loaded.image])[0]
    return image_create(loaded=loaded, vector=vector, model_key=encoder.model_key, original_name=name)


def test_an_original_is_streamed_with_its_type_and_a_readable_name(encoder):
    data = noise_image_bytes(3, fmt="PNG")
    image = _stored(data, "Sunset at Sea.png", encoder)
    response = download_response(image)
    assert b"".join(response.streaming_content) == data
    assert response["Content-Type"] == "image/png"
    assert response["Content-Disposition"] == f'attachment; filename="sunset-at-sea-{image.id}.png"'


def test_a_jpeg_download_is_converted(encoder):
    image = _stored(image_bytes("blue", fmt="WEBP"), "blue.webp", encoder)
    response = download_response(image, fmt="jpeg")
    assert response["Content-Type"] == "image/jpeg"
    assert PILImage.open(io.BytesIO(response.content)).format == "JPEG"


def test_a_missing_file_is_a_404_with_a_message(encoder, media_root):
    image = _stored(image_bytes("red"), "red.jpg", encoder)
    (media_root / image.file.name).unlink()
    for deliver in (lambda: file_response(image.file), lambda: download_response(image, fmt="jpeg")):
        with pytest.raises(Http404, match="missing"):
            deliver()


def test_a_zip_leaves_out_images_whose_file_is_gone(encoder, media_root):
    kept = _stored(image_bytes("red"), "red.jpg", encoder)
    gone = _stored(image_bytes("green"), "green.jpg", encoder)
    (media_root / gone.file.name).unlink()
    with zipfile.ZipFile(images_zip([kept, gone])) as bundle:
        assert bundle.namelist() == [f"red-{kept.id}.jpg"]


def test_stored_images_are_read_back_with_failures_named(encoder, media_root):
    good = _stored(image_bytes("red"), "red.jpg", encoder)
    bad = _stored(image_bytes("green"), "green.jpg", encoder)
    (media_root / bad.file.name).write_bytes(b"damaged")
    readable, failed = load_stored_images([good, bad])
    assert [image.id for image, _ in readable] == [good.id]
    assert failed[0][0] == bad.id and "not an image" in failed[0][1]


@pytest.mark.parametrize(
    ("delivery", "header", "expected"),
    [("x-accel-redirect", "X-Accel-Redirect", "/protected-media/{name}"), ("x-sendfile", "X-Sendfile", "{path}")],
)
def test_the_front_proxy_can_send_the_file_after_django_said_yes(
    settings, encoder, media_root, delivery, header, expected
):
    settings.MEDIA_DELIVERY = delivery
    image = _stored(noise_image_bytes(8, fmt="PNG"), "proxy.png", encoder)
    response = download_response(image)
    name = image.file.name
    assert response[header] == expected.format(name=name, path=str(media_root / name))
    assert response.content == b"" and response["Content-Type"] == "image/png"
    assert response["Content-Disposition"] == f'attachment; filename="proxy-{image.id}.png"'
    (media_root / name).unlink()
    with pytest.raises(Http404):
        file_response(image.file)


class _CountingReader(io.BytesIO):
    """A file that counts how often it was read."""

    reads = 0

    def read(self, size=-1):
        self.reads += 1
        return super().read(size)


def test_under_asgi_a_file_goes_out_a_block_at_a_time_without_django_buffering_it():
    data = bytes(range(256)) * (3 * FileStream.block_size // 256) + b"tail"
    handle = _CountingReader(data)
    response = FileStream(handle, content_type="application/octet-stream")

    async def send():  # what Django's ASGI handler does with a streaming response
        blocks = aiter(response)
        first = await anext(blocks)
        reads_before_the_first_block_went_out = handle.reads
        return first, reads_before_the_first_block_went_out, [block async for block in blocks]

    with warnings.catch_warnings():
        warnings.simplefilter("error")  # Django's "must consume synchronous iterators" (it reads it all first)
        first, reads, rest = asyncio.run(send())
    assert reads == 1 and len(first) == FileStream.block_size
    assert first + b"".join(rest) == data and len(rest) == 3
    response.close()
    assert handle.closed
