from django.core.management.base import BaseCommand, CommandError

from search.libraries import library_roots
from search.services.libraries import libraries_rescan


class Command(BaseCommand):
    help = (
        "Bring the libraries of LIBRARY_PATHS up to date: add new photos, embed changed ones again, follow moved "
        "ones, and take missing ones out of search. Unchanged files are only looked at, never read."
    )

    def add_arguments(self, parser):
        parser.add_argument("--background", action="store_true", help="leave new photos to a background ingest job")

    def handle(self, background: bool, **options):
        if not library_roots():
            raise CommandError("No library to rescan: set LIBRARY_PATHS to the folders indexed in place.")
        report = libraries_rescan(background=background)
        self.stdout.write(str(report))
        for path, reason in report.failed:
            self.stdout.write(f"  {path}: {reason}")
