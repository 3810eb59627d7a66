from django.core.management.base import BaseCommand

from search.services.purge import temporary_files_purge


class Command(BaseCommand):
    help = "Delete query images of idle search sessions and expired login sessions (indexed images are kept)."

    def add_arguments(self, parser):
        parser.add_argument("--dry-run", action="store_true", help="list what would be removed, remove nothing")

    def handle(self, dry_run: bool, **options):
        report = temporary_files_purge(dry_run=dry_run)
        for name in report.files:
            self.stdout.write(f"  {name}")
        self.stdout.write(str(report))
