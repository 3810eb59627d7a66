from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from search.encoder import get_encoder
from search.libraries import library_roots
from search.services.captions import captions_queue
from search.services.ingest import IngestReport, find_image_files, images_ingest


class Command(BaseCommand):
    help = "Index the images of a folder (recursively); content already indexed is skipped."

    def add_arguments(self, parser):
        parser.add_argument("path", type=Path)
        parser.add_argument("--category", help="category for every image (default: the first subfolder's name)")
        parser.add_argument("--batch-size", type=int, default=None)
        parser.add_argument(
            "--background", action="store_true", help="queue batches on the `embed` queue for workers and return"
        )
        parser.add_argument(
            "--in-place",
            action="store_true",
            help="index the files where they are, without copying them (the folder must be in LIBRARY_PATHS)",
        )

    def handle(self, path: Path, category: str | None, batch_size: int | None, background=False, **options):
        in_place = options.get("in_place", False)
        if not path.is_dir():
            raise CommandError(f"{path} is not a folder")
        if in_place and not any(path.resolve().is_relative_to(root) for root in library_roots()):
            raise CommandError(f"{path} is not inside a library: add it to LIBRARY_PATHS to index it in place")
        if background:
            from search.services.jobs import ingest_job_create

            job = ingest_job_create(root=path, category=category, batch_size=batch_size, in_place=in_place)
            self.stdout.write(f"queued ingest job {job.pk}: {job.total} image files under {path}")
            return
        candidates = find_image_files(path, category=category, in_place=in_place)
        encoder = get_encoder()
        self.stdout.write(f"{len(candidates)} image files under {path}; model {encoder.model_key}")
        with tqdm(total=len(candidates), unit="img", disable=not candidates) as bar:
            report = images_ingest(
                candidates, encoder=encoder, batch_size=batch_size, on_batch=lambda batch: bar.update(batch.seen)
            )
        self._summary(report)
        if report.added:
            captions_queue()  # every image still without a caption from the configured captioner

    def _summary(self, report: IngestReport) -> None:
        self.stdout.write(f"added {report.added}, already present {report.present}, unreadable {len(report.failed)}")
        for file, reason in report.failed:
            self.stdout.write(f"  skipped {file}: {reason}")
