"""Builders for test data: image bytes made with Pillow, and Image rows with chosen vectors."""

from __future__ import annotations

import hashlib
import io
import itertools
import struct
import zlib
from datetime import UTC, datetime

import numpy as np
from django.core.files.base import ContentFile
from django.core.files.storage import Storage
from PIL import ExifTags
from PIL import Image as PILImage

from search.models import Image, ImageVector

_counter = itertools.count()


def image_bytes(color="red", size=(64, 48), fmt="JPEG", mode="RGB", **save_options) -> bytes:
    buffer = io.BytesIO()
    PILImage.new(mode, size, color).save(buffer, format=fmt, **save_options)
    return buffer.getvalue()


def noise_image_bytes(seed: int, size=(96, 72), fmt="JPEG", **save_options) -> bytes:
    pixels = np.random.default_rng(seed).integers(0, 256, (size[1], size[0], 3), dtype=np.uint8)
    buffer = io.BytesIO()
    PILImage.fromarray(pixels).save(buffer, format=fmt, **save_options)
    return buffer.getvalue()


def photo_bytes(
    *,
    taken: str = "2024:06:01 14:30:00",
    offset: str = "+02:00",
    make: str = "Canon",
    model: str = "Canon EOS 5D Mark IV",
    lens: str = "EF24-70mm f/2.8L II USM",
    gps: tuple[float, float] | None = (48.8584, 2.2945),
    orientation: int = 1,
    color="green",
    size=(64, 48),
    fmt="JPEG",
) -> bytes:
    """A photo with the EXIF a camera writes: date taken with its offset, camera, lens, GPS position, orientation."""
    exif = PILImage.Exif()
    exif[ExifTags.Base.Make] = make
    exif[ExifTags.Base.Model] = model
    exif[ExifTags.Base.Orientation] = orientation
    sub = exif.get_ifd(ExifTags.IFD.Exif)
    sub[ExifTags.Base.DateTimeOriginal] = taken
    sub[ExifTags.Base.OffsetTimeOriginal] = offset
    sub[ExifTags.Base.LensModel] = lens
    if gps is not None:
        exif[ExifTags.Base.GPSInfo] = {
            ExifTags.GPS.GPSLatitudeRef: "N" if gps[0] >= 0 else "S",
            ExifTags.GPS.GPSLatitude: _dms(gps[0]),
            ExifTags.GPS.GPSLongitudeRef: "E" if gps[1] >= 0 else "W",
            ExifTags.GPS.GPSLongitude: _dms(gps[1]),
        }
    buffer = io.BytesIO()
    PILImage.new("RGB", size, color).save(buffer, format=fmt, exif=exif)
    return buffer.getvalue()


def _dms(value: float) -> tuple[float, float, float]:
    value = abs(value)
    degrees = int(value)
    minutes = int((value - degrees) * 60)
    return float(degrees), float(minutes), round((value - degrees - minutes / 60) * 3600, 4)


def vector_atol(encoder) -> float:
    """How far two encodings of one image may differ when batched differently: float32 is batch-invariant to 1e-5;
    bfloat16 rounds each layer's output, so another batch moves a vector by up to ~3e-3 (cosine > 0.9999)."""
    return 1e-5 if encoder.precision == "float32" else 5e-3


def png_bomb_bytes(width=100_000, height=100_000) -> bytes:
    """A tiny PNG whose header claims width x height pixels: Pillow must refuse it before decoding."""

    def chunk(kind: bytes, payload: bytes) -> bytes:
        return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", zlib.crc32(kind + payload))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"")) + chunk(b"IEND", b"")


def unit_vector(dim: int, seed: int) -> np.ndarray:
    vector = np.random.default_rng(seed).standard_normal(dim).astype(np.float32)
    return vector / np.linalg.norm(vector)


def image_row(*, vector: np.ndarray, model_key: str, **fields) -> Image:
    """An Image row with a given vector and no files (for tests of the vector search itself)."""
    n = next(_counter)
    defaults = {
        "sha256": hashlib.sha256(f"row-{n}".encode()).hexdigest(),
        "original_name": f"row-{n}.jpg",
        "file": f"images/row-{n}.jpg",
        "thumbnail": f"thumbnails/row-{n}.jpg",
        "width": 64,
        "height": 64,
        "format": "JPEG",
        "byte_size": 1000,
    }
    image = Image.objects.create(**{**defaults, **fields})
    ImageVector.objects.create(image=image, embedding_model=model_key, embedding=vector)
    return image


def command_output(*args) -> str:
    """What a management command prints (its stderr kept apart), run in this process like `manage.py` would."""
    from io import StringIO

    from django.core.management import call_command

    out = StringIO()
    call_command(*args, stdout=out, stderr=StringIO())
    return out.getvalue()


class PathlessStorage(Storage):
    """A storage with no local paths at all, like S3: files live in a dict; Storage.path() raises
    NotImplementedError, so code that asks for a file's path fails loudly."""

    def __init__(self) -> None:
        self.files: dict[str, tuple[bytes, datetime]] = {}

    def _open(self, name, mode="rb"):
        if name not in self.files:
            raise FileNotFoundError(name)
        return ContentFile(self.files[name][0], name=name)

    def _save(self, name, content):
        self.files[name] = (content.read(), datetime.now(UTC))
        return name

    def delete(self, name):
        self.files.pop(name, None)

    def exists(self, name):
        return name in self.files

    def size(self, name):
        return len(self.files[name][0])

    def get_modified_time(self, name):
        return self.files[name][1]

    def listdir(self, path):
        prefix = path.rstrip("/") + "/" if path else ""
        inside = [name[len(prefix) :] for name in self.files if name.startswith(prefix)]
        if not inside and path:
            raise FileNotFoundError(path)
        return sorted({rest.split("/")[0] for rest in inside if "/" in rest}), sorted(r for r in inside if "/" not in r)

    def url(self, name):
        return f"/media/{name}"
