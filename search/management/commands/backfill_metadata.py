from django.core.management.base import BaseCommand

from search.services.metadata import images_metadata_backfill


class Command(BaseCommand):
    help = "Read photo metadata (date taken, camera, lens, GPS, orientation) for images indexed without it."

    def add_arguments(self, parser):
        parser.add_argument(
            "--all", dest="everything", action="store_true", help="read every image again, not only those without any"
        )

    def handle(self, everything, **options):
        report = images_metadata_backfill(everything=everything)
        self.stdout.write(f"{report.read} images read, {report.found} with metadata, {len(report.failed)} failed")
        for image_id, reason in report.failed:
            self.stdout.write(f"  image {image_id}: {reason}")
