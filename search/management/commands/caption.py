from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from search.captioner import get_captioner
from search.models import Image
from search.services.captions import captions_embed, captions_enabled, images_caption


class Command(BaseCommand):
    help = "Caption images with the configured captioner (CAPTION_MODEL), then embed every caption (resumable)."

    def add_arguments(self, parser):
        parser.add_argument("--missing", action="store_true", help="only images that have no caption at all")
        parser.add_argument("--batch-size", type=int, default=None)

    def handle(self, missing, batch_size, **options):
        if not captions_enabled():
            raise CommandError("Captioning is off: CAPTION_MODEL is empty. Set it to a captioning model or folder.")
        captioner = get_captioner()
        pending = Image.objects.needing_caption(captioner.model_key, missing_only=missing).count()
        self.stdout.write(f"{pending} images to caption with {captioner.model_key}")
        with tqdm(total=pending, unit="img", disable=not pending) as bar:
            report = images_caption(
                missing_only=missing, captioner=captioner, batch_size=batch_size, on_batch=bar.update
            )
        embedded = captions_embed()
        self.stdout.write(
            f"captioned {report.captioned}, unchanged {report.unchanged}, curated kept {report.skipped_curated}, "
            f"failed {len(report.failed)}; caption vectors written {embedded}"
        )
        for image_id, reason in report.failed:
            self.stdout.write(f"  image #{image_id}: {reason}")
