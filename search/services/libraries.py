"""Keeping libraries indexed in place in step with their folders (`manage.py rescan`, and the periodic beat task).

A rescan looks at every image file under LIBRARY_PATHS and every in-place row:
- a file whose size and mtime match its row is unchanged: it is not opened (10,000 unchanged files cost 10,000
  stat calls, no pixel);
- a file whose size or mtime changed is hashed: the same content only updates the row's mtime, new content is
  embedded again (vector, thumbnail, metadata) in the row;
- a new file whose content belongs to a row whose file is gone was moved: the row follows it and keeps its id,
  captions and curation; other new files are ingested in place;
- a row whose file is gone is marked missing and leaves search (a file that comes back is found again).
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field
from pathlib import Path

from django.db import transaction

from search.encoder import ClipEncoder, get_encoder
from search.imagefiles import InvalidImage, file_sha256
from search.libraries import LIBRARY_PREFIX, library_name, library_path, library_roots
from search.models import Image
from search.result_cache import collection_changed
from search.services.captions import captions_queue
from search.services.images import (
    image_files_discard,
    image_vectors_save,
    ingest_decode_side,
    make_thumbnails,
    replace_thumbnail,
)
from search.services.ingest import ImageCandidate, folder_category, image_paths, images_ingest, read_candidate
from search.services.jobs import ingest_job_create

logger = logging.getLogger(__name__)


@dataclass
class RescanReport:
    unchanged: int = 0
    added: int = 0
    changed: int = 0  # new content: embedded again
    touched: int = 0  # mtime or size changed, same content
    moved: int = 0
    missing: int = 0  # marked missing by this scan
    returned: int = 0  # missing before, found again
    queued: int = 0  # new files left to a background ingest job
    failed: list[tuple[str, str]] = field(default_factory=list)

    def __str__(self) -> str:
        return (
            f"{self.unchanged} unchanged, {self.added} added, {self.changed} changed, {self.touched} touched, "
            f"{self.moved} moved, {self.missing} missing, {self.returned} back, {self.queued} queued, "
            f"{len(self.failed)} failed"
        )


@dataclass(frozen=True)
class _Row:
    id: int
    name: str
    sha256: str
    byte_size: int
    file_mtime: float | None
    missing: bool


def libraries_rescan(*, encoder: ClipEncoder | None = None, background: bool = False) -> RescanReport:
    """Bring the in-place rows of every library in LIBRARY_PATHS in line with the files on disk.

    `background` leaves the new files to an in-place ingest job per library (batches on the `embed` queue), so a
    periodic rescan stays a short task however many photos arrived; they count in `queued`, not `added`.
    """
    report = RescanReport()
    roots = library_roots()
    if not roots:
        return report
    on_disk = _files_on_disk(roots, report)
    rows = _library_rows(roots)
    gone = {name: row for name, row in rows.items() if name not in on_disk}
    changed = []
    for name, row in rows.items():
        stat = on_disk.get(name)
        if stat is None:
            continue
        if stat.st_size == row.byte_size and stat.st_mtime == row.file_mtime:
            report.unchanged += 1
            if row.missing:
                Image.objects.filter(id=row.id).update(missing=False)
                report.returned += 1
        else:
            changed.append((row, stat))
    new = [name for name in on_disk if name not in rows]
    encoder = encoder or get_encoder()
    _rescan_changed(changed, encoder, report)
    _rescan_new(new, on_disk, gone, encoder, report, roots=roots, background=background)
    newly_missing = [row.id for row in gone.values() if not row.missing]
    report.missing = Image.objects.filter(id__in=newly_missing).update(missing=True)
    if report.added or report.changed or report.moved or report.missing or report.returned:
        collection_changed()
    if report.added or report.changed:
        captions_queue()  # every image still without a caption from the configured captioner
    logger.info("library rescan: %s", report)
    return report


def _files_on_disk(roots: list[Path], report: RescanReport) -> dict[str, os.stat_result]:
    files = {}
    for root in roots:
        if not root.is_dir():
            # An unmounted disk must not look like every photo deleted: its rows are left as they are.
            report.failed.append((str(root), "the library folder is not there; its photos were left as they are"))
            continue
        for path in image_paths(root):
            try:
                files[library_name(path)] = path.stat()
            except OSError as error:
                report.failed.append((str(path), error.strerror or str(error)))
    return files


def _library_rows(roots: list[Path]) -> dict[str, _Row]:
    """In-place rows under the scanned roots that are there now (rows of an unmounted root are left out)."""
    present = [root for root in roots if root.is_dir()]
    rows = {}
    fields = ("id", "file", "sha256", "byte_size", "file_mtime", "missing")
    for values in Image.objects.filter(file__startswith=LIBRARY_PREFIX).values_list(*fields).iterator():
        row = _Row(*values)
        path = Path(row.name.removeprefix(LIBRARY_PREFIX))
        if any(path.is_relative_to(root) for root in present):
            rows[row.name] = row
    return rows


def _rescan_changed(changed: list[tuple[_Row, os.stat_result]], encoder: ClipEncoder, report: RescanReport) -> None:
    for row, stat in changed:
        path = library_path(row.name)
        try:
            sha256 = file_sha256(path)
        except OSError as error:
            report.failed.append((str(path), error.strerror or str(error)))
            continue
        if sha256 == row.sha256:
            Image.objects.filter(id=row.id).update(file_mtime=stat.st_mtime, byte_size=stat.st_size, missing=False)
            report.touched += 1
            continue
        try:
            _reembed(row, path, stat, encoder)
        except (InvalidImage, ValueError) as error:
            report.failed.append((str(path), str(error)))
            continue
        report.changed += 1


def _reembed(row: _Row, path: Path, stat: os.stat_result, encoder: ClipEncoder) -> None:
    """New content at a known path: the row keeps its id and gets the content's hash, vector, thumbnail, metadata."""
    loaded = read_candidate(ImageCandidate(path=path), reduce_to=ingest_decode_side(encoder))
    if Image.objects.filter(sha256=loaded.sha256).exclude(id=row.id).exists():
        raise ValueError("its new content is already indexed as another image")
    vector = encoder.encode_images([loaded.image])[0]
    thumbnail = make_thumbnails([loaded])[0]
    try:
        with transaction.atomic():
            image = Image.objects.select_for_update().get(id=row.id)
            replace_thumbnail(image, loaded, thumbnail)
            image.sha256 = loaded.sha256
            image.width, image.height, image.format = loaded.width, loaded.height, loaded.format
            image.byte_size, image.file_mtime, image.missing = len(loaded.data), stat.st_mtime, False
            for name, value in loaded.metadata.as_fields().items():
                setattr(image, name, value)
            image.save()
            image_vectors_save([(image.id, vector)], encoder.model_key)
    except Exception:
        image_files_discard(loaded)
        raise


def _rescan_new(new: list[str], on_disk, gone: dict[str, _Row], encoder, report, *, roots, background: bool) -> None:
    """Moved files rejoin their rows (by content); the others are ingested in place."""
    gone_by_sha = {row.sha256: row for row in gone.values()}
    candidates = []
    for name in new:
        path = library_path(name)
        try:
            sha256 = file_sha256(path)
        except OSError as error:
            report.failed.append((str(path), error.strerror or str(error)))
            continue
        row = gone_by_sha.pop(sha256, None)
        if row is not None:
            stat = on_disk[name]
            Image.objects.filter(id=row.id).update(file=name, file_mtime=stat.st_mtime, missing=False)
            del gone[row.name]
            report.moved += 1
        else:
            root = next(root for root in roots if path.is_relative_to(root))
            candidates.append(ImageCandidate(path=path, category=folder_category(root, path), in_place=True))
    if background:
        for root in roots:
            paths = [c.path for c in candidates if c.path.is_relative_to(root)]
            if paths:
                ingest_job_create(root=root, paths=paths, in_place=True)
                report.queued += len(paths)
        return
    ingest_report = images_ingest(candidates, encoder=encoder)
    report.added += ingest_report.added
    report.failed += ingest_report.failed
