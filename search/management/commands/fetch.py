from django.core.management.base import BaseCommand, CommandError

from search.errors import InvalidQuery
from search.models import JobItemState, JobState
from search.services.fetch import fetch_job_create, fetch_job_run


class Command(BaseCommand):
    help = "Search the web (DuckDuckGo) for images of a query, download, check, embed and index them."

    def add_arguments(self, parser):
        parser.add_argument("query")
        parser.add_argument("--count", type=int, default=20, help="images wanted (default 20)")
        parser.add_argument("--category", default="", help="category of the new images (default: the query)")
        parser.add_argument("--background", action="store_true", help="queue the job for a worker and return")

    def handle(self, query: str, count: int, category: str, background: bool, **options):
        try:
            job = fetch_job_create(query=query, count=count, category=category, enqueue=background)
        except InvalidQuery as error:
            raise CommandError(error.message) from None
        if background:
            self.stdout.write(f"queued fetch job {job.pk}; follow it at /fetch/jobs/{job.pk}/")
            return
        self.stdout.write(f"fetching {count} images for {job.query!r} (job {job.pk})")
        job = fetch_job_run(job.pk)
        for item in job.items.filter(state=JobItemState.SKIPPED).exclude(reason__startswith="not needed"):
            self.stdout.write(f"  skipped {item.source}: {item.reason}")
        if job.state != JobState.SUCCEEDED:
            raise CommandError(job.message)
        self.stdout.write(job.message)
