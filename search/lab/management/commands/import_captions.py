from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from search.imagefiles import file_sha256
from search.lab.datasets.dataset import read_dataset
from search.services.captions import captions_import


class Command(BaseCommand):
    help = "Write a captioned dataset's own captions (first caption of each image) onto the indexed images."

    def add_arguments(self, parser):
        parser.add_argument("dataset", type=Path, help="a dataset folder (dataset.json + images/) or a Karpathy file")
        parser.add_argument("--image-root", type=Path, help="where the images are, for Karpathy files")

    def handle(self, dataset: Path, image_root: Path | None, **options):
        try:
            entries = read_dataset(dataset, image_root=image_root)
        except (OSError, ValueError, KeyError) as error:
            raise CommandError(f"cannot read {dataset}: {error}") from None
        pairs = [
            (file_sha256(entry.path), entry.captions[0]) for entry in entries if entry.captions and entry.path.is_file()
        ]
        written = captions_import(pairs)
        self.stdout.write(f"captions written for {written} of {len(pairs)} images (curated captions kept)")
