from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from search.selectors.duplicates import find_duplicates


class Command(BaseCommand):
    help = "List groups of near-duplicate visible images (cosine similarity of their vectors, via the HNSW index)."

    def add_arguments(self, parser):
        parser.add_argument("--threshold", type=float, default=settings.DUPLICATE_THRESHOLD)
        parser.add_argument("--neighbours", type=int, default=settings.DUPLICATE_NEIGHBOURS, help="checked per image")
        parser.add_argument("--model", default=None, help="only vectors of this model key (default: every model)")

    def handle(self, threshold, neighbours, model, **options):
        if not 0.0 < threshold <= 1.0:
            raise CommandError("--threshold must be in (0, 1].")
        if not 1 <= neighbours <= 100:
            raise CommandError("--neighbours must be between 1 and 100.")
        report = find_duplicates(threshold=threshold, model_key=model, neighbours=neighbours)
        for number, group in enumerate(report.groups, start=1):
            self.stdout.write(f"group {number}: {len(group.images)} images, best similarity {group.similarity:.4f}")
            for image in group.images:
                self.stdout.write(f"  #{image.id} {image.original_name} {image.width}x{image.height} {image.category}")
        duplicates = sum(len(group.images) - 1 for group in report.groups)
        self.stdout.write(
            f"{len(report.groups)} groups ({duplicates} images to hide) among {report.checked} images "
            f"at threshold {threshold}, in {report.seconds:.2f} s"
        )
