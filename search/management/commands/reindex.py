from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from search.encoder import get_encoder
from search.models import Image
from search.services.reindex import images_reindex, vector_index_build
from search.vector_index import INDEX_KINDS


class Command(BaseCommand):
    help = (
        "Re-embed images whose vectors are missing or come from another CLIP model (resumable). --index builds the "
        "current model's HNSW index of another kind first (VECTOR_INDEX chooses which one searches use)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--batch-size", type=int, default=None)
        parser.add_argument("--index", choices=INDEX_KINDS, help="build this kind of HNSW index (concurrently)")
        parser.add_argument(
            "--drop-other-indexes", action="store_true", help="with --index: drop the model's indexes of other kinds"
        )

    def handle(self, batch_size, **options):
        encoder = get_encoder()
        if options["drop_other_indexes"] and options["index"] != settings.VECTOR_INDEX:
            raise CommandError(
                f"--drop-other-indexes keeps only the --index kind, but searches use VECTOR_INDEX="
                f"{settings.VECTOR_INDEX}: build the new index, set VECTOR_INDEX, then drop the others"
            )
        if options["index"]:
            self._index(options["index"], encoder, drop_others=options["drop_other_indexes"])
        pending = Image.objects.needing_embedding(encoder.model_key).count()
        self.stdout.write(f"{pending} images to embed with {encoder.model_key}")
        with tqdm(total=pending, unit="img", disable=not pending) as bar:
            report = images_reindex(encoder=encoder, batch_size=batch_size, on_batch=bar.update)
        self.stdout.write(f"updated {report.updated}, failed {len(report.failed)}")
        for image_id, reason in report.failed:
            self.stdout.write(f"  image #{image_id}: {reason}")

    def _index(self, kind: str, encoder, *, drop_others: bool) -> None:
        switch = vector_index_build(kind, encoder=encoder, drop_others=drop_others)
        self.stdout.write(f"HNSW index ({kind}) {switch.built}: ready ({switch.seconds:.1f} s)")
        for name in switch.dropped:
            self.stdout.write(f"dropped {name}")
        if kind != settings.VECTOR_INDEX:
            self.stdout.write(f"Searches use VECTOR_INDEX={settings.VECTOR_INDEX}: set VECTOR_INDEX={kind} to use it.")
