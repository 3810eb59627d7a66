"""What a photo says about itself in its EXIF: when it was taken (with the camera's UTC offset), by which camera and
lens, where (GPS), and its orientation. Read with Pillow from the opened file, before decoding; every field is
optional, and a damaged or lying EXIF block gives empty fields, never an error."""

from __future__ import annotations

import datetime as dt
import math
import re
from dataclasses import dataclass

from PIL import ExifTags
from PIL import Image as PILImage

_IFD = ExifTags.IFD
_TAG = ExifTags.Base
_GPS = ExifTags.GPS
_OFFSET = re.compile(r"^([+-])(\d{2}):(\d{2})$")
_TEXT_LIMIT = 100


@dataclass(frozen=True)
class PhotoMetadata:
    taken_at: dt.datetime | None = None  # aware: in UTC when the offset is known, else the camera's clock read as UTC
    taken_offset: str = ""  # "+02:00" as the camera recorded it; "" when unknown
    camera_make: str = ""
    camera_model: str = ""
    lens: str = ""
    latitude: float | None = None
    longitude: float | None = None
    orientation: int | None = None

    @property
    def camera(self) -> str:
        """Make and model as people say it ("Canon EOS 5D", not "Canon Canon EOS 5D")."""
        if self.camera_model.lower().startswith(self.camera_make.lower()):
            return self.camera_model
        return f"{self.camera_make} {self.camera_model}".strip()

    def as_fields(self) -> dict:
        """The Image columns these values are stored in."""
        return {
            "taken_at": self.taken_at,
            "taken_offset": self.taken_offset,
            "camera_make": self.camera_make,
            "camera_model": self.camera_model,
            "lens": self.lens,
            "latitude": self.latitude,
            "longitude": self.longitude,
            "orientation": self.orientation,
        }


def read_metadata(image: PILImage.Image) -> PhotoMetadata:
    """The metadata of an opened (not necessarily decoded) image; empty for an image without EXIF."""
    try:
        exif = image.getexif()
        sub = exif.get_ifd(_IFD.Exif)
        gps = exif.get_ifd(_IFD.GPSInfo)
    except Exception:  # Pillow raises many kinds on a damaged EXIF block; the image itself may still be fine
        return PhotoMetadata()
    taken = _text(sub.get(_TAG.DateTimeOriginal) or exif.get(_TAG.DateTime))
    offset = _offset(_text(sub.get(_TAG.OffsetTimeOriginal) or sub.get(_TAG.OffsetTime)))
    latitude, longitude = _position(gps)
    orientation = exif.get(_TAG.Orientation)
    return PhotoMetadata(
        taken_at=_taken_at(taken, offset),
        taken_offset=offset,
        camera_make=_text(exif.get(_TAG.Make)),
        camera_model=_text(exif.get(_TAG.Model)),
        lens=_text(sub.get(_TAG.LensModel)),
        latitude=latitude,
        longitude=longitude,
        orientation=orientation if isinstance(orientation, int) and 1 <= orientation <= 8 else None,
    )


def _text(value) -> str:
    if isinstance(value, bytes):
        value = value.decode("utf-8", "replace")
    if not isinstance(value, str):
        return ""
    # EXIF strings are NUL-padded; PostgreSQL text holds no NUL.
    return value.replace("\x00", "").strip()[:_TEXT_LIMIT]


def _offset(value: str) -> str:
    match = _OFFSET.match(value)
    if not match or int(match[2]) > 14 or int(match[3]) > 59:
        return ""
    return value


def _taken_at(value: str, offset: str) -> dt.datetime | None:
    try:
        naive = dt.datetime.strptime(value[:19], "%Y:%m:%d %H:%M:%S")
    except ValueError:
        return None  # missing, "0000:00:00 00:00:00", or another camera's idea of a date
    if offset:
        sign, hours, minutes = _OFFSET.match(offset).groups()
        delta = dt.timedelta(hours=int(hours), minutes=int(minutes))
        return naive.replace(tzinfo=dt.timezone(delta if sign == "+" else -delta)).astimezone(dt.UTC)
    return naive.replace(tzinfo=dt.UTC)


def _position(gps) -> tuple[float | None, float | None]:
    latitude = _degrees(gps.get(_GPS.GPSLatitude), gps.get(_GPS.GPSLatitudeRef), "S", 90)
    longitude = _degrees(gps.get(_GPS.GPSLongitude), gps.get(_GPS.GPSLongitudeRef), "W", 180)
    if latitude is None or longitude is None:
        return None, None
    return latitude, longitude


def _degrees(value, ref, negative: str, limit: float) -> float | None:
    try:
        degrees, minutes, seconds = (float(part) for part in value)
    except (TypeError, ValueError, ZeroDivisionError):
        return None
    result = degrees + minutes / 60 + seconds / 3600
    if _text(ref).upper() == negative:
        result = -result
    if not math.isfinite(result) or abs(result) > limit:
        return None
    return round(result, 7)
