"""Ingesting many images: read, check, deduplicate, embed in batches, store; report every skipped file."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings

from search.encoder import ClipEncoder, get_encoder
from search.imagefiles import FILE_EXTENSIONS, InvalidImage, LoadedImage, load_image
from search.models import Image, ImageSource
from search.services.images import image_create, ingest_decode_side, make_thumbnails
from search.vector_index import ensure_hnsw_index
from search.workpool import parallel_map


@dataclass(frozen=True)
class ImageCandidate:
    """One image to ingest, not read yet."""

    path: Path
    category: str = ""
    source: str = ImageSource.FOLDER
    source_url: str = ""


@dataclass
class IngestReport:
    added: int = 0
    present: int = 0
    failed: list[tuple[str, str]] = field(default_factory=list)  # (file, reason)

    @property
    def seen(self) -> int:
        return self.added + self.present + len(self.failed)

    def merge(self, other: IngestReport) -> None:
        self.added += other.added
        self.present += other.present
        self.failed.extend(other.failed)


def find_image_files(root: Path, *, category: str | None = None) -> list[ImageCandidate]:
    """Image files under `root`, sorted; the category is `category`, else the first subfolder's name."""
    files = sorted(p for p in root.rglob("*") if p.suffix.lower() in FILE_EXTENSIONS and p.is_file())
    return [
        ImageCandidate(path=p, category=category if category is not None else _first_folder(root, p)) for p in files
    ]


def images_ingest(
    candidates: Iterable[ImageCandidate],
    *,
    encoder: ClipEncoder | None = None,
    batch_size: int | None = None,
    on_batch: Callable[[IngestReport], None] | None = None,
) -> IngestReport:
    """Ingest candidates in batches; `on_batch` gets each batch's report (for progress bars and job rows)."""
    encoder = encoder or get_encoder()
    ensure_hnsw_index(encoder.model_key, encoder.dim)
    report = IngestReport()
    for batch in _batches(candidates, batch_size or settings.CLIP_BATCH_SIZE):
        batch_report = ingest_batch(batch, encoder=encoder)
        report.merge(batch_report)
        if on_batch:
            on_batch(batch_report)
    return report


def ingest_batch(batch: list[ImageCandidate], *, encoder: ClipEncoder) -> IngestReport:
    """Read, check and embed one batch together, then store each new image in its own transaction."""
    report = IngestReport()
    loaded: list[tuple[ImageCandidate, LoadedImage]] = []
    reduce_to = ingest_decode_side(encoder)
    outcomes = parallel_map(
        lambda candidate: read_candidate(candidate, reduce_to=reduce_to), batch, returning=(InvalidImage,)
    )
    for candidate, outcome in zip(batch, outcomes, strict=True):
        if isinstance(outcome, InvalidImage):
            report.failed.append((str(candidate.path), str(outcome)))
        else:
            loaded.append((candidate, outcome))
    loaded = _drop_known(loaded, report)
    vectors = encoder.encode_images([image.image for _, image in loaded])
    thumbnails = make_thumbnails([image for _, image in loaded])
    for (candidate, image), vector, thumbnail in zip(loaded, vectors, thumbnails, strict=True):
        created = image_create(
            loaded=image,
            thumbnail=thumbnail,
            vector=vector,
            model_key=encoder.model_key,
            original_name=candidate.path.name,
            source=candidate.source,
            source_url=candidate.source_url,
            category=candidate.category,
        )
        if created is None:
            report.present += 1
        else:
            report.added += 1
    return report


def read_candidate(candidate: ImageCandidate, *, reduce_to: int | None = None) -> LoadedImage:
    """The file, read and checked (decoded at a reduced size where `reduce_to` allows: imagefiles.load_image)."""
    try:
        size = candidate.path.stat().st_size
        if size > settings.IMAGE_MAX_BYTES:
            raise InvalidImage(f"the file is {size:,} bytes; the limit is {settings.IMAGE_MAX_BYTES:,}")
        data = candidate.path.read_bytes()
    except OSError as error:
        raise InvalidImage(f"cannot read the file: {error.strerror or error}") from None
    return load_image(
        data, max_pixels=settings.IMAGE_MAX_PIXELS, max_bytes=settings.IMAGE_MAX_BYTES, reduce_to=reduce_to
    )


def _drop_known(
    loaded: list[tuple[ImageCandidate, LoadedImage]], report: IngestReport
) -> list[tuple[ImageCandidate, LoadedImage]]:
    """Skip content already indexed, and repeats of the same content inside the batch, before paying to embed."""
    known = set(Image.objects.filter(sha256__in=[image.sha256 for _, image in loaded]).values_list("sha256", flat=True))
    fresh = []
    for candidate, image in loaded:
        if image.sha256 in known:
            report.present += 1
        else:
            known.add(image.sha256)
            fresh.append((candidate, image))
    return fresh


def _batches(items: Iterable[ImageCandidate], size: int) -> Iterator[list[ImageCandidate]]:
    batch: list[ImageCandidate] = []
    for item in items:
        batch.append(item)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


def _first_folder(root: Path, path: Path) -> str:
    parts = path.relative_to(root).parts
    return parts[0] if len(parts) > 1 else ""
