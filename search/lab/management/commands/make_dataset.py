"""manage.py make_dataset OUT --train N --test M --seed S: render the shapes benchmark."""

from pathlib import Path

from django.core.management.base import BaseCommand
from tqdm import tqdm

from search.lab.datasets.dataset import write_dataset
from search.lab.datasets.shapes import benchmark_info, generate_samples


class Command(BaseCommand):
    help = "Render the procedural shapes benchmark into OUT/images/ and OUT/dataset.json."

    def add_arguments(self, parser):
        parser.add_argument("out", type=Path, help="output folder (created if missing)")
        parser.add_argument("--train", type=int, default=20000, help="training images")
        parser.add_argument("--val", type=int, default=0, help="validation images")
        parser.add_argument("--test", type=int, default=1000, help="test images (incl. held-out pairs)")
        parser.add_argument("--seed", type=int, default=0)

    def handle(self, *args, out: Path, train: int, val: int, test: int, seed: int, **options):
        counts = {split: n for split, n in (("train", train), ("val", val), ("test", test)) if n > 0}
        samples = generate_samples(seed, counts)
        progress = tqdm(samples, total=sum(counts.values()), unit="image", disable=options["verbosity"] == 0)
        path = write_dataset(out, progress, name="shapes", extra=benchmark_info(seed, counts))
        self.stdout.write(self.style.SUCCESS(f"Wrote {sum(counts.values())} images and {path}"))
