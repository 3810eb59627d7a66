"""Reading untrusted image bytes: checked by content, with Pillow's decompression-bomb limit kept on.

Every way an image enters the project (folder ingest, upload, web fetch) comes through load_image, so the checks
are the same everywhere and a bad file is refused with one kind of error that says why.
"""

from __future__ import annotations

import hashlib
import io
import math
import warnings
from dataclasses import dataclass, field

import pillow_heif
from PIL import ExifTags, ImageOps, UnidentifiedImageError
from PIL import Image as PILImage

from search.photometadata import PhotoMetadata, read_metadata

# HEIC/HEIF (phones' default format) through libheif; AVIF is Pillow's own.
pillow_heif.register_heif_opener()

# Pillow names; MPO is the multi-picture JPEG that many cameras write.
ALLOWED_FORMATS = frozenset({"JPEG", "MPO", "PNG", "WEBP", "GIF", "BMP", "TIFF", "HEIF", "AVIF"})
FILE_EXTENSIONS = frozenset(
    {".jpg", ".jpeg", ".png", ".webp", ".gif", ".bmp", ".tif", ".tiff", ".heic", ".heif", ".avif"}
)
# Formats whose decoder can scale down while decoding (libjpeg; MPO is JPEG frames).
REDUCIBLE_FORMATS = frozenset({"JPEG", "MPO"})
_EXTENSION_BY_FORMAT = {
    "JPEG": "jpg",
    "MPO": "jpg",
    "PNG": "png",
    "WEBP": "webp",
    "GIF": "gif",
    "BMP": "bmp",
    "HEIF": "heic",
    "AVIF": "avif",
}
# What thumbnails are stored as: WebP is about a third smaller than JPEG for the same look.
THUMBNAIL_FORMAT, THUMBNAIL_EXTENSION = "WEBP", "webp"


class InvalidImage(ValueError):
    """The bytes are not an image the project accepts; str(error) says why, for the person who sent it."""


@dataclass(frozen=True)
class LoadedImage:
    data: bytes
    sha256: str
    format: str
    image: PILImage.Image  # decoded, orientation applied, first frame of an animation
    width: int
    height: int
    metadata: PhotoMetadata = field(default_factory=PhotoMetadata)

    @property
    def extension(self) -> str:
        return _EXTENSION_BY_FORMAT.get(self.format, self.format.lower())


def load_image(
    data: bytes,
    *,
    max_pixels: int,
    max_bytes: int | None = None,
    allowed_formats: frozenset[str] = ALLOWED_FORMATS,
    reduce_to: int | None = None,
) -> LoadedImage:
    """Decode and check `data`; raise InvalidImage with a reason for anything that is not a usable image.

    With `reduce_to`, a JPEG is decoded at the smallest of 1/2, 1/4 or 1/8 scale whose short side is still at
    least `reduce_to` pixels (libjpeg scales in the DCT domain: a 12-megapixel photo decodes several times faster).
    Every byte is still decoded, so damaged files are refused as before; width and height are the full image's.
    """
    image = open_checked(data, max_pixels=max_pixels, max_bytes=max_bytes, allowed_formats=allowed_formats)
    width, height = image.size
    metadata = read_metadata(image)
    if reduce_to and image.format in REDUCIBLE_FORMATS:
        _reduce(image, reduce_to)
    decoded = _decode(image)
    if _transposed(image):
        width, height = height, width
    return LoadedImage(
        data=data,
        sha256=hashlib.sha256(data).hexdigest(),
        format=image.format,
        image=decoded,
        width=width,
        height=height,
        metadata=metadata,
    )


def open_checked(
    data: bytes, *, max_pixels: int, max_bytes: int | None = None, allowed_formats: frozenset[str] = ALLOWED_FORMATS
) -> PILImage.Image:
    """`data` opened (header read, no pixel decoded) and checked: not empty, not too large, an accepted format,
    not too many pixels; InvalidImage with the reason otherwise. The cheap half of load_image."""
    if not data:
        raise InvalidImage("the file is empty")
    if max_bytes is not None and len(data) > max_bytes:
        raise InvalidImage(f"the file is {len(data):,} bytes; the limit is {max_bytes:,}")
    image = _open(data)
    if image.format not in allowed_formats:
        raise InvalidImage(f"{image.format or 'unknown'} images are not accepted")
    width, height = image.size
    if width * height > max_pixels:
        raise InvalidImage(f"{width}x{height} pixels is over the limit of {max_pixels:,} (decompression bomb?)")
    return image


def _open(data: bytes) -> PILImage.Image:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", PILImage.DecompressionBombWarning)
            return PILImage.open(io.BytesIO(data))
    except (PILImage.DecompressionBombError, PILImage.DecompressionBombWarning) as error:
        raise InvalidImage(f"too many pixels (decompression bomb): {error}") from None
    except UnidentifiedImageError:
        raise InvalidImage("not an image that can be read (unknown or damaged content)") from None
    except (OSError, SyntaxError, ValueError) as error:
        raise InvalidImage(f"unreadable image: {error}") from None


def _decode(image: PILImage.Image) -> PILImage.Image:
    try:
        image.seek(0)
        image.load()
        oriented = ImageOps.exif_transpose(image)
    except (OSError, SyntaxError, ValueError, EOFError) as error:
        # Pillow reports truncated and corrupt data as OSError ("image file is truncated", "broken data stream").
        raise InvalidImage(f"damaged image data: {error}") from None
    except PILImage.DecompressionBombError as error:
        raise InvalidImage(f"too many pixels (decompression bomb): {error}") from None
    return oriented if oriented is not None else image


def _reduce(image: PILImage.Image, side: int) -> None:
    width, height = image.size
    scale = min(width, height) / side
    if scale >= 2:
        # draft() picks the largest DCT scale that keeps the image at least this size.
        image.draft(None, (math.ceil(width / scale), math.ceil(height / scale)))


def _transposed(image: PILImage.Image) -> bool:
    """Whether the EXIF orientation turns the image by 90 degrees (exif_transpose swaps width and height)."""
    return image.getexif().get(ExifTags.Base.Orientation) in {5, 6, 7, 8}


def flatten_to_rgb(image: PILImage.Image, background: tuple[int, int, int] = (255, 255, 255)) -> PILImage.Image:
    """RGB with any transparency composited onto `background` (JPEG has no alpha)."""
    if image.mode in ("RGBA", "LA") or (image.mode == "P" and "transparency" in image.info):
        rgba = image.convert("RGBA")
        canvas = PILImage.new("RGB", rgba.size, background)
        canvas.paste(rgba, mask=rgba.getchannel("A"))
        return canvas
    return image.convert("RGB")


def make_thumbnail(image: PILImage.Image, size: int) -> bytes:
    """A WebP no larger than size x size, keeping the aspect ratio."""
    thumbnail = flatten_to_rgb(image)
    # reducing_gap 1.0: a cheap box reduction to just above the target size, then Lanczos; about 4x
    # faster than Lanczos over a full photo, and the difference does not show at thumbnail size.
    thumbnail.thumbnail((size, size), PILImage.Resampling.LANCZOS, reducing_gap=1.0)
    buffer = io.BytesIO()
    # method 2 of 0-6: 2.4x faster to encode than Pillow's default 4 for files 7% larger, still 55% smaller than
    # JPEG quality 82 (measured on 320 px photo-like thumbnails, docs/benchmarks.md).
    thumbnail.save(buffer, format=THUMBNAIL_FORMAT, quality=80, method=2)
    return buffer.getvalue()


def to_jpeg(image: PILImage.Image, *, quality: int = 92) -> bytes:
    buffer = io.BytesIO()
    flatten_to_rgb(image).save(buffer, format="JPEG", quality=quality, optimize=True)
    return buffer.getvalue()


def file_sha256(path) -> str:
    """The content hash images are identified by, read in chunks (files can be large)."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()
