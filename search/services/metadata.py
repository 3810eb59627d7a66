"""Photo metadata for images indexed before it was read at ingest (manage.py backfill_metadata)."""

from __future__ import annotations

import io
from dataclasses import dataclass, field

from PIL import Image as PILImage

from search.libraries import originals
from search.models import Image
from search.photometadata import PhotoMetadata, read_metadata

FIELDS = list(PhotoMetadata().as_fields())


@dataclass
class BackfillReport:
    read: int = 0
    found: int = 0  # images whose files said something
    failed: list[tuple[int, str]] = field(default_factory=list)  # (image id, reason)


def images_metadata_backfill(*, everything: bool = False, batch_size: int = 200) -> BackfillReport:
    """Read EXIF from the stored files of images that have none recorded (or of every image) and store it.

    Only the file's header is parsed, never its pixels; a file that is gone or unreadable is reported and skipped.
    """
    images = Image.objects.only("id", "file").order_by("id")
    if not everything:
        images = images.filter(taken_at=None, camera_make="", camera_model="", latitude=None, orientation=None)
    report = BackfillReport()
    last_id = 0
    while batch := list(images.filter(id__gt=last_id)[:batch_size]):
        last_id = batch[-1].id
        changed = []
        for image in batch:
            report.read += 1
            try:
                metadata = _stored_metadata(image.file.name)
            except (OSError, ValueError, SyntaxError) as error:
                report.failed.append((image.id, str(error) or type(error).__name__))
                continue
            if metadata != PhotoMetadata():
                report.found += 1
            for name, value in metadata.as_fields().items():
                setattr(image, name, value)
            changed.append(image)
        Image.objects.bulk_update(changed, FIELDS)
    return report


def _stored_metadata(name: str) -> PhotoMetadata:
    with originals.open(name, "rb") as handle:
        data = handle.read()
    return read_metadata(PILImage.open(io.BytesIO(data)))
