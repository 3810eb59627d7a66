import contextlib
import datetime as dt
import json
from pathlib import Path

from django.core.files.storage import default_storage
from django.core.management.base import BaseCommand, CommandError

from search.errors import InvalidQuery
from search.models import Image
from search.query import SEARCH_MODES, PhotoFilters, SearchRequest, load_upload
from search.selectors.search import search_images


class Command(BaseCommand):
    help = (
        'Search the collection: manage.py search "a dog on a beach" [--image FILE] [-k N] [--mode hybrid] '
        "[--after 2024-01-01] [--camera canon] [--json]. Prints each hit's file path (or its URL, for storage "
        "without local files), score and caption."
    )

    def add_arguments(self, parser):
        parser.add_argument("text", nargs="?", default="")
        parser.add_argument("--image", type=Path, help="an example image (alone, or combined with the text)")
        parser.add_argument("--image-weight", type=float, default=None)
        parser.add_argument("-k", "--top-k", type=int, default=10)
        parser.add_argument("--mode", choices=SEARCH_MODES, default="vector", help="hybrid: vector + full text")
        parser.add_argument("--category", default="")
        parser.add_argument("--min-score", type=float, default=None)
        parser.add_argument("--after", type=_date, help="taken on or after (YYYY-MM-DD or ISO date-time)")
        parser.add_argument("--before", type=_date, help="taken on or before")
        parser.add_argument("--camera", default="", help="part of the camera's make or model")
        location = parser.add_mutually_exclusive_group()
        location.add_argument("--has-location", dest="has_location", action="store_true", default=None)
        location.add_argument("--no-location", dest="has_location", action="store_false")
        parser.add_argument("--bbox", type=_bbox, help="south,west,north,east in degrees")
        parser.add_argument("--json", action="store_true", help="one JSON document, for scripts")

    def handle(self, text, image, top_k, **options):
        try:
            request = SearchRequest(
                text=text,
                image=load_upload(self._read(image)) if image else None,
                image_weight=options["image_weight"],
                top_k=top_k,
                min_score=options["min_score"],
                category=options["category"],
                mode=options["mode"],
                photo=PhotoFilters(
                    taken_after=options["after"],
                    taken_before=options["before"],
                    camera=options["camera"],
                    has_location=options["has_location"],
                    bbox=options["bbox"],
                ),
            )
            results = search_images(request)
        except InvalidQuery as error:
            raise CommandError(f"{error.field}: {error.message}") from None
        locations = _file_locations([hit.id for hit in results.hits])
        rows = [
            {
                "rank": rank,
                "id": hit.id,
                "score": hit.score,
                "file": locations.get(hit.id, hit.url),
                "caption": hit.caption,
                "category": hit.category,
            }
            for rank, hit in enumerate(results.hits, 1)
        ]
        if options["json"]:
            document = {"query": text, "mode": request.mode, "model": results.model_key, "results": rows}
            self.stdout.write(json.dumps(document, ensure_ascii=False, indent=2))
            return
        timings = results.timings_ms
        self.stdout.write(
            f"{len(rows)} results from {results.model_key} "
            f"(encode {timings['encode']:.1f} ms, search {timings['search']:.1f} ms)"
        )
        for row in rows:
            caption = f"  {row['caption']}" if row["caption"] else ""
            self.stdout.write(f"{row['rank']:3d}. {row['score']:.4f}  {row['file']}{caption}")

    def _read(self, path: Path) -> bytes:
        try:
            return path.read_bytes()
        except OSError as error:
            raise CommandError(f"cannot read {path}: {error.strerror or error}") from None


def _file_locations(ids: list[int]) -> dict[int, str]:
    """Each image's file as a local path; empty where the storage has none (S3: the hit's URL is printed)."""
    locations = {}
    for image_id, name in Image.objects.filter(id__in=ids).values_list("id", "file"):
        with contextlib.suppress(NotImplementedError):
            locations[image_id] = default_storage.path(name)
    return locations


def _date(value: str) -> dt.datetime:
    try:
        parsed = dt.datetime.fromisoformat(value)
    except ValueError:
        raise ValueError(f"not a date: {value!r}") from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)


def _bbox(value: str) -> tuple[float, ...]:
    return tuple(float(part) for part in value.split(","))
