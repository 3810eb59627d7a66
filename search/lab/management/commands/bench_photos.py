import hashlib
import platform
import tempfile
from pathlib import Path

from django.db.models import Max
from django.test import override_settings

from search.encoder import get_encoder
from search.lab.database import LabCommand
from search.lab.speed import photos
from search.lab.speed.encoders import photo_like_jpegs
from search.models import Image


class Command(LabCommand):
    help = (
        "Bringing your own photos, timed in one run: upload through POST /api/images/ against folder ingest, a "
        "rescan of unchanged library files, WebP against JPEG thumbnails, and vector queries within photo filters "
        "at 1% and 10% selectivity. Markdown for docs/benchmarks.md; runs in the lab's database."
    )

    def add_arguments(self, parser):
        parser.add_argument("--images", type=int, default=64, help="photo-like JPEGs for the ingest comparison")
        parser.add_argument("--size", default="1024x768")
        parser.add_argument("--rescan-files", type=int, default=10_000)
        parser.add_argument("--filtered-rows", type=int, default=20_000)
        parser.add_argument("--dim", type=int, default=512)
        parser.add_argument("--queries", type=int, default=100)
        parser.add_argument("-k", type=int, default=10)

    def handle(self, **options):
        width, height = (int(side) for side in options["size"].split("x"))
        self.stdout.write(f"CPU: {platform.processor() or platform.machine()}; {options}\n")
        with tempfile.TemporaryDirectory() as scratch, override_settings(MEDIA_ROOT=f"{scratch}/media"):
            root = Path(scratch)
            # Other collections of the lab database (simulate's) stay: only the rows this run adds are removed.
            self.first_new_id = (Image.objects.aggregate(last=Max("id"))["last"] or 0) + 1
            self._ingest(root, options["images"], (width, height))
            self._remove_own_rows()
            with override_settings(LIBRARY_PATHS=[str(root / "library")]):
                seconds, report = photos.rescan_unchanged(
                    root / "library", options["rescan_files"], model_key="bench:rescan", dim=options["dim"]
                )
            self.stdout.write(
                f"\nRescan of {options['rescan_files']:,} unchanged in-place files: {seconds:.2f} s "
                f"({options['rescan_files'] / seconds:,.0f} files/s; {report})\n"
            )
            self._remove_own_rows()
            self._thumbnails((width, height))
            self._filtered(options)
            self._remove_own_rows()

    def _remove_own_rows(self) -> None:
        Image.objects.filter(id__gte=self.first_new_id).delete()

    def _ingest(self, root: Path, count: int, size: tuple[int, int]) -> None:
        encoder = get_encoder()
        jpegs = photo_like_jpegs(count, size=size, seed=1)
        # A run stopped halfway leaves its pictures behind: they would be found "already indexed" this time.
        Image.objects.filter(sha256__in=[hashlib.sha256(data).hexdigest() for data in jpegs]).delete()
        runs = [photos.folder_ingest_rate(encoder, jpegs, root / "folder")]
        for files, label in ((1, "POST /api/images/, 1 file per request"), (8, "POST /api/images/, 8 per request")):
            self._remove_own_rows()
            runs.append(photos.api_upload_rate(jpegs, files_per_request=files, label=label))
        self._remove_own_rows()
        runs.append(photos.api_upload_job_rate(jpegs))
        self.stdout.write(f"\n{count} photo-like JPEGs {size[0]}x{size[1]}, model {encoder.model_key}, same run\n")
        self.stdout.write("| path | images/s | vs folder ingest |\n|---|---:|---:|")
        for run in runs:
            self.stdout.write(f"| {run.name} | {run.per_second:.1f} | {run.per_second / runs[0].per_second:.2f}x |")

    def _thumbnails(self, size: tuple[int, int]) -> None:
        from django.conf import settings

        result = photos.thumbnail_sizes(photo_like_jpegs(16, size=size, seed=2), settings.THUMBNAIL_SIZE)
        self.stdout.write(f"\nThumbnails ({settings.THUMBNAIL_SIZE} px box, 16 photo-like images)\n")
        self.stdout.write("| format | mean bytes | mean ms |\n|---|---:|---:|")
        for name, (size_bytes, ms) in result.items():
            self.stdout.write(f"| {name} | {size_bytes:,.0f} | {ms:.1f} |")

    def _filtered(self, options) -> None:
        results = photos.filtered_latencies(
            options["filtered_rows"], options["dim"], options["queries"], options["k"], model_key="bench:filtered"
        )
        self.stdout.write(
            f"\nVector queries within photo filters, {options['filtered_rows']:,} rows of {options['dim']}-d, "
            f"k={options['k']}, {options['queries']} queries\n"
        )
        self.stdout.write("| filter | p50 ms | p95 ms | p99 ms | queries with k rows |\n|---|---:|---:|---:|---:|")
        for label, stats, full in results:
            self.stdout.write(
                f"| {label} | {stats['p50']:.2f} | {stats['p95']:.2f} | {stats['p99']:.2f} | {full:.0%} |"
            )
