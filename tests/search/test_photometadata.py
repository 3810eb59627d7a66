"""EXIF read from photos the tests write with Pillow: date with offset, camera, lens, position, orientation."""

import datetime as dt
import io

import pytest
from PIL import Image as PILImage

from search.photometadata import PhotoMetadata, read_metadata
from tests.factories import image_bytes, photo_bytes


def metadata_of(data: bytes) -> PhotoMetadata:
    return read_metadata(PILImage.open(io.BytesIO(data)))


def test_a_camera_photo_gives_every_field():
    metadata = metadata_of(photo_bytes(orientation=6))
    assert metadata.taken_at == dt.datetime(2024, 6, 1, 12, 30, tzinfo=dt.UTC)  # 14:30 at +02:00
    assert metadata.taken_offset == "+02:00"
    assert (metadata.camera_make, metadata.camera_model) == ("Canon", "Canon EOS 5D Mark IV")
    assert metadata.camera == "Canon EOS 5D Mark IV"
    assert metadata.lens == "EF24-70mm f/2.8L II USM"
    assert metadata.latitude == pytest.approx(48.8584, abs=1e-4)
    assert metadata.longitude == pytest.approx(2.2945, abs=1e-4)
    assert metadata.orientation == 6


def test_southern_and_western_positions_are_negative():
    metadata = metadata_of(photo_bytes(gps=(-33.8568, -70.6693)))
    assert metadata.latitude == pytest.approx(-33.8568, abs=1e-4)
    assert metadata.longitude == pytest.approx(-70.6693, abs=1e-4)


def test_without_an_offset_the_camera_clock_is_read_as_utc():
    metadata = metadata_of(photo_bytes(offset=""))
    assert metadata.taken_at == dt.datetime(2024, 6, 1, 14, 30, tzinfo=dt.UTC) and metadata.taken_offset == ""


def test_the_camera_name_joins_make_and_model_when_the_model_lacks_the_make():
    assert metadata_of(photo_bytes(make="Apple", model="iPhone 15 Pro")).camera == "Apple iPhone 15 Pro"


@pytest.mark.parametrize("taken", ["0000:00:00 00:00:00", "yesterday", "2024:13:45 99:00:00", ""])
def test_dates_cameras_get_wrong_give_no_date(taken):
    assert metadata_of(photo_bytes(taken=taken)).taken_at is None


def test_an_impossible_offset_is_dropped():
    metadata = metadata_of(photo_bytes(offset="+99:00"))
    assert metadata.taken_offset == "" and metadata.taken_at == dt.datetime(2024, 6, 1, 14, 30, tzinfo=dt.UTC)


def test_nul_padded_strings_are_cleaned():
    assert metadata_of(photo_bytes(make="Nikon\x00\x00\x00")).camera_make == "Nikon"


def test_an_image_without_exif_gives_empty_metadata():
    assert metadata_of(image_bytes()) == PhotoMetadata()
    assert metadata_of(image_bytes(fmt="PNG")) == PhotoMetadata()


def test_a_photo_without_gps_has_no_position():
    metadata = metadata_of(photo_bytes(gps=None))
    assert metadata.latitude is None and metadata.longitude is None and metadata.camera_make == "Canon"
