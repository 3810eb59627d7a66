import io

import pytest
from PIL import Image as PILImage

from search.imagefiles import InvalidImage, load_image, make_thumbnail, to_jpeg
from tests.factories import image_bytes, noise_image_bytes, png_bomb_bytes

LIMIT = 89_478_485


@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "WEBP", "GIF", "BMP", "TIFF"])
def test_accepts_each_supported_format(fmt):
    loaded = load_image(image_bytes(fmt=fmt, size=(30, 20)), max_pixels=LIMIT)
    assert (loaded.format, loaded.width, loaded.height) == (fmt, 30, 20)
    assert len(loaded.sha256) == 64


def test_refuses_empty_file():
    with pytest.raises(InvalidImage, match="empty"):
        load_image(b"", max_pixels=LIMIT)


def test_refuses_non_image_content():
    with pytest.raises(InvalidImage, match="not an image"):
        load_image(b"<html>not an image</html>", max_pixels=LIMIT)


def test_refuses_truncated_image():
    data = image_bytes(size=(400, 300), fmt="PNG")
    with pytest.raises(InvalidImage):
        load_image(data[: len(data) // 2], max_pixels=LIMIT)


def test_refuses_decompression_bomb_by_pillows_own_limit():
    with pytest.raises(InvalidImage, match="decompression bomb"):
        load_image(png_bomb_bytes(), max_pixels=LIMIT)


def test_refuses_image_over_configured_pixel_limit():
    with pytest.raises(InvalidImage, match="over the limit"):
        load_image(image_bytes(size=(200, 200)), max_pixels=100 * 100)


def test_refuses_file_over_byte_limit():
    with pytest.raises(InvalidImage, match="limit is 10"):
        load_image(image_bytes(), max_pixels=LIMIT, max_bytes=10)


def test_refuses_formats_outside_the_list():
    with pytest.raises(InvalidImage, match="not accepted"):
        load_image(image_bytes(fmt="PPM"), max_pixels=LIMIT)


def test_applies_exif_orientation():
    exif = PILImage.Exif()
    exif[0x0112] = 6  # rotate 90° clockwise to display
    data = image_bytes(size=(40, 10), fmt="JPEG", exif=exif.tobytes())
    loaded = load_image(data, max_pixels=LIMIT)
    assert (loaded.width, loaded.height) == (10, 40)


def test_thumbnail_fits_the_box_and_keeps_aspect():
    loaded = load_image(image_bytes(size=(800, 400), fmt="PNG", mode="RGBA", color=(0, 0, 0, 0)), max_pixels=LIMIT)
    thumbnail = PILImage.open(io.BytesIO(make_thumbnail(loaded.image, 100)))
    assert thumbnail.format == "WEBP"
    assert thumbnail.size == (100, 50)
    assert thumbnail.getpixel((50, 25)) == pytest.approx((255, 255, 255), abs=2)  # alpha flattened onto white


def test_jpeg_conversion_is_valid_rgb():
    converted = PILImage.open(io.BytesIO(to_jpeg(PILImage.new("LA", (5, 5)))))
    assert (converted.format, converted.mode) == ("JPEG", "RGB")


def _photo(size=(1024, 768), **save_options) -> bytes:
    """A JPEG with detail in it (noise), big enough for libjpeg to decode at a reduced scale."""
    return noise_image_bytes(5, size=size, **save_options)


def test_reduced_decoding_keeps_the_asked_short_side_and_reports_the_full_size():
    full = load_image(_photo(), max_pixels=LIMIT)
    reduced = load_image(_photo(), max_pixels=LIMIT, reduce_to=320)
    assert reduced.image.size == (512, 384)  # 1/2 scale: 1/4 would leave 192 < 320
    assert (reduced.width, reduced.height) == (full.width, full.height) == (1024, 768)
    assert reduced.data == full.data and reduced.sha256 == full.sha256
    assert load_image(_photo(), max_pixels=LIMIT, reduce_to=90).image.size == (128, 96)  # 1/8
    assert load_image(_photo(), max_pixels=LIMIT, reduce_to=500).image.size == (1024, 768)  # 1/2 is too small


def test_reduced_decoding_reports_the_full_size_of_a_turned_photo():
    exif = PILImage.Exif()
    exif[0x0112] = 6  # rotate 90° clockwise to display
    loaded = load_image(_photo(exif=exif.tobytes()), max_pixels=LIMIT, reduce_to=320)
    assert (loaded.width, loaded.height) == (768, 1024)
    assert loaded.image.size == (384, 512)


def test_reduced_decoding_still_refuses_a_damaged_jpeg():
    data = _photo()
    with pytest.raises(InvalidImage, match="damaged"):
        load_image(data[: len(data) // 2], max_pixels=LIMIT, reduce_to=320)


def test_reduced_decoding_leaves_other_formats_at_full_size():
    loaded = load_image(noise_image_bytes(5, size=(1024, 768), fmt="PNG"), max_pixels=LIMIT, reduce_to=320)
    assert loaded.image.size == (1024, 768)
