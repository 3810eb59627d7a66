from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from search.errors import InvalidQuery
from search.query import SearchRequest, load_upload
from search.selectors.search import search_images


class Command(BaseCommand):
    help = 'Search the collection: manage.py search "a dog on a beach" [--image FILE] [-k N]'

    def add_arguments(self, parser):
        parser.add_argument("text", nargs="?", default="")
        parser.add_argument("--image", type=Path, help="an example image (alone, or combined with the text)")
        parser.add_argument("--image-weight", type=float, default=None)
        parser.add_argument("-k", "--top-k", type=int, default=10)
        parser.add_argument("--category", default="")
        parser.add_argument("--min-score", type=float, default=None)

    def handle(self, text, image, image_weight, top_k, category, min_score, **options):
        try:
            request = SearchRequest(
                text=text,
                image=load_upload(self._read(image)) if image else None,
                image_weight=image_weight,
                top_k=top_k,
                min_score=min_score,
                category=category,
            )
            results = search_images(request)
        except InvalidQuery as error:
            raise CommandError(f"{error.field}: {error.message}") from None
        timings = results.timings_ms
        self.stdout.write(
            f"{len(results.hits)} results from {results.model_key} "
            f"(encode {timings['encode']:.1f} ms, search {timings['search']:.1f} ms)"
        )
        for rank, hit in enumerate(results.hits, 1):
            self.stdout.write(
                f"{rank:3d}. {hit.score:.4f}  #{hit.id}  {hit.original_name}  [{hit.category}] {hit.caption}"
            )

    def _read(self, path: Path) -> bytes:
        try:
            return path.read_bytes()
        except OSError as error:
            raise CommandError(f"cannot read {path}: {error.strerror}") from None
