"""The one ingest pipeline: read and check, deduplicate, embed in batches, thumbnail, store; an outcome per image.

Every way images enter the collection comes through `ingest_batch`: a folder (`manage.py ingest`, images_ingest),
a folder as a background job (search.services.jobs) and a web fetch (search.services.fetch). Callers differ only in
where the bytes come from (a file, or bytes already downloaded) and in what they record about each outcome.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings
from django.db import transaction

from search.encoder import ClipEncoder, get_encoder
from search.imagefiles import FILE_EXTENSIONS, InvalidImage, LoadedImage, load_image
from search.libraries import library_name
from search.models import Image, ImageSource
from search.services.images import image_create, image_files_discard, ingest_decode_side, make_thumbnails
from search.vector_index import ensure_hnsw_index
from search.workpool import parallel_map

ADDED, PRESENT, FAILED = "added", "present", "failed"


@dataclass(frozen=True)
class ImageCandidate:
    """One image to ingest, not read yet: a file at `path`, or bytes already in memory (`data`, a download)."""

    path: Path | None = None
    category: str = ""
    source: str = ImageSource.FOLDER
    source_url: str = ""
    data: bytes | None = None
    name: str = ""  # the original file name; default: the path's
    key: object = None  # the caller's handle for this candidate (a job item), handed back in its outcome
    in_place: bool = False  # a library file indexed where it is (search.libraries): its original is not copied

    @property
    def original_name(self) -> str:
        return self.name or (self.path.name if self.path is not None else "")


@dataclass
class IngestOutcome:
    candidate: ImageCandidate
    state: str  # ADDED | PRESENT | FAILED
    reason: str = ""
    image: Image | None = None  # the image added, or the one already holding this content


@dataclass
class IngestReport:
    added: int = 0
    present: int = 0
    failed: list[tuple[str, str]] = field(default_factory=list)  # (file, reason)

    @property
    def seen(self) -> int:
        return self.added + self.present + len(self.failed)

    def count(self, outcome: IngestOutcome) -> None:
        if outcome.state == ADDED:
            self.added += 1
        elif outcome.state == PRESENT:
            self.present += 1
        else:
            where = str(outcome.candidate.path or outcome.candidate.source_url or outcome.candidate.original_name)
            self.failed.append((where, outcome.reason))


def find_image_files(root: Path, *, category: str | None = None, in_place: bool = False) -> list[ImageCandidate]:
    """Image files under `root`, sorted, each with its category (folder_category)."""
    return [
        ImageCandidate(path=path, category=folder_category(root, path, category), in_place=in_place)
        for path in image_paths(root)
    ]


def image_paths(root: Path) -> list[Path]:
    """The files under `root` with an image file's extension, sorted."""
    return sorted(p for p in root.rglob("*") if p.suffix.lower() in FILE_EXTENSIONS and p.is_file())


def folder_category(root: Path | str, path: Path | str, category: str | None = None) -> str:
    """An ingested file's category: `category` when given, else the name of its first folder under `root`."""
    if category is not None:
        return category
    parts = Path(path).relative_to(root).parts
    return parts[0] if len(parts) > 1 else ""


def images_ingest(
    candidates: Iterable[ImageCandidate],
    *,
    encoder: ClipEncoder | None = None,
    batch_size: int | None = None,
    on_batch: Callable[[IngestReport], None] | None = None,
) -> IngestReport:
    """Ingest candidates in batches; `on_batch` gets each batch's report (for progress bars)."""
    encoder = encoder or get_encoder()
    report = IngestReport()
    for batch in _batches(candidates, batch_size or settings.CLIP_BATCH_SIZE):
        batch_report = IngestReport()
        for outcome in ingest_batch(batch, encoder=encoder):
            batch_report.count(outcome)
            report.count(outcome)
        if on_batch:
            on_batch(batch_report)
    return report


def ingest_batch(
    candidates: list[ImageCandidate],
    *,
    encoder: ClipEncoder,
    record: Callable[[IngestOutcome], None] | None = None,
    proceed: Callable[[], bool] | None = None,
) -> list[IngestOutcome]:
    """Read and check the batch on the image work pool, embed the new content together, then store each new image.

    `record` sees every outcome; an added image's runs inside the transaction that creates its row, so whatever it
    writes commits with the image or not at all. `proceed` is asked once the slow part is done, right before the
    first write: False stores nothing (no outcome at all), e.g. for a job cancelled meanwhile.
    """
    ensure_hnsw_index(encoder.model_key, encoder.dim)
    readable, outcomes = _read_all(candidates, ingest_decode_side(encoder))
    fresh, known, repeats = _split_known(readable)
    vectors = encoder.encode_images([loaded.image for _, loaded in fresh])
    if proceed is not None and not proceed():
        return []
    outcomes += known
    for outcome in outcomes:
        _record(outcome, record)
    thumbnails = make_thumbnails([loaded for _, loaded in fresh])
    for (candidate, loaded), vector, thumbnail in zip(fresh, vectors, thumbnails, strict=True):
        outcomes.append(_store(candidate, loaded, vector, thumbnail, encoder.model_key, record))
    stored = {outcome.image.sha256: outcome.image for outcome in outcomes if outcome.image is not None}
    for outcome, sha256 in repeats:  # a repeat inside the batch points at the image its first copy became
        outcome.image = stored.get(sha256)
    return outcomes


def read_candidate(candidate: ImageCandidate, *, reduce_to: int | None = None) -> LoadedImage:
    """The candidate's bytes, read and checked (decoded at a reduced size where `reduce_to` allows)."""
    data = candidate.data if candidate.data is not None else _read_file(candidate.path)
    return load_image(
        data, max_pixels=settings.IMAGE_MAX_PIXELS, max_bytes=settings.IMAGE_MAX_BYTES, reduce_to=reduce_to
    )


def _read_file(path: Path) -> bytes:
    try:
        size = path.stat().st_size
        if size > settings.IMAGE_MAX_BYTES:
            raise InvalidImage(f"the file is {size:,} bytes; the limit is {settings.IMAGE_MAX_BYTES:,}")
        return path.read_bytes()
    except OSError as error:
        raise InvalidImage(f"cannot read the file: {error.strerror or error}") from None


def _read_all(candidates, reduce_to) -> tuple[list[tuple[ImageCandidate, LoadedImage]], list[IngestOutcome]]:
    results = parallel_map(lambda c: read_candidate(c, reduce_to=reduce_to), candidates, returning=(InvalidImage,))
    readable, failed = [], []
    for candidate, result in zip(candidates, results, strict=True):
        if isinstance(result, InvalidImage):
            failed.append(IngestOutcome(candidate, FAILED, reason=str(result)))
        else:
            readable.append((candidate, result))
    return readable, failed


def _split_known(readable):
    """The candidates to embed; outcomes for content indexed already or repeated inside the batch; and the repeats
    with their content's sha256 (their image is known once the first copy is stored)."""
    shas = [loaded.sha256 for _, loaded in readable]
    known = {image.sha256: image for image in Image.objects.filter(sha256__in=shas).only("id", "sha256")}
    seen: dict[str, ImageCandidate] = {}
    fresh, present, repeats = [], [], []
    for candidate, loaded in readable:
        if loaded.sha256 in known:
            present.append(IngestOutcome(candidate, PRESENT, "already indexed", known[loaded.sha256]))
        elif loaded.sha256 in seen:
            repeat = IngestOutcome(candidate, PRESENT, "same content as another item of this job")
            present.append(repeat)
            repeats.append((repeat, loaded.sha256))
        else:
            seen[loaded.sha256] = candidate
            fresh.append((candidate, loaded))
    return fresh, present, repeats


def _store(candidate, loaded, vector, thumbnail, model_key, record) -> IngestOutcome:
    try:
        return _store_recorded(candidate, loaded, vector, thumbnail, model_key, record)
    except Exception:
        image_files_discard(loaded)  # the row (and what `record` wrote) rolled back: its files go too
        raise


def _store_recorded(candidate, loaded, vector, thumbnail, model_key, record) -> IngestOutcome:
    with transaction.atomic():
        image = image_create(
            loaded=loaded,
            thumbnail=thumbnail,
            vector=vector,
            model_key=model_key,
            original_name=candidate.original_name or f"web-image.{loaded.extension}",
            source=candidate.source,
            source_url=candidate.source_url,
            category=candidate.category,
            in_place=library_name(candidate.path) if candidate.in_place else "",
            file_mtime=candidate.path.stat().st_mtime if candidate.in_place else None,
        )
        if image is None:  # indexed by another process since _split_known looked
            existing = Image.objects.only("id", "sha256").get(sha256=loaded.sha256)
            outcome = IngestOutcome(candidate, PRESENT, "already indexed", existing)
        else:
            outcome = IngestOutcome(candidate, ADDED, image=image)
        _record(outcome, record)
    return outcome


def _record(outcome: IngestOutcome, record) -> None:
    if record is not None:
        record(outcome)


def _batches(items: Iterable[ImageCandidate], size: int) -> Iterator[list[ImageCandidate]]:
    batch: list[ImageCandidate] = []
    for item in items:
        batch.append(item)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch
