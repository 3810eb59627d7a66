from django.core.management.base import BaseCommand
from tqdm import tqdm

from search.encoder import get_encoder
from search.models import Image
from search.services.reindex import images_reindex


class Command(BaseCommand):
    help = "Re-embed images whose vectors are missing or come from another CLIP model (resumable)."

    def add_arguments(self, parser):
        parser.add_argument("--batch-size", type=int, default=None)

    def handle(self, batch_size, **options):
        encoder = get_encoder()
        pending = Image.objects.needing_embedding(encoder.model_key).count()
        self.stdout.write(f"{pending} images to embed with {encoder.model_key}")
        with tqdm(total=pending, unit="img", disable=not pending) as bar:
            report = images_reindex(encoder=encoder, batch_size=batch_size, on_batch=bar.update)
        self.stdout.write(f"updated {report.updated}, failed {len(report.failed)}")
        for image_id, reason in report.failed:
            self.stdout.write(f"  image #{image_id}: {reason}")
