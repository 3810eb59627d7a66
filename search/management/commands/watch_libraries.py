import signal
import threading

from django.core.management.base import BaseCommand, CommandError

from search.libraries import library_roots
from search.services.libraries import libraries_rescan
from search.services.library_watch import libraries_watch


class Command(BaseCommand):
    help = (
        "Watch LIBRARY_PATHS and rescan shortly after files change, instead of waiting for the periodic rescan "
        "(optional: run it as one more process next to the workers)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--quiet-seconds", type=float, default=5.0, help="wait this long after the last change")

    def handle(self, quiet_seconds: float, **options):
        if not library_roots():
            raise CommandError("No library to watch: set LIBRARY_PATHS to the folders indexed in place.")
        stop = threading.Event()
        for signum in (signal.SIGINT, signal.SIGTERM):
            signal.signal(signum, lambda *_: stop.set())

        def rescan() -> None:
            self.stdout.write(str(libraries_rescan(background=True)))

        libraries_watch(rescan, quiet_seconds=quiet_seconds, stop=stop)
