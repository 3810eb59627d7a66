"""Time the near-duplicate finder on N synthetic images with planted near-copies, written and rolled back."""

from __future__ import annotations

import numpy as np
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from search.lab.speed.rows import create_with_vectors, synthetic_image, unit_rows
from search.selectors.duplicates import find_duplicates
from search.vector_index import ensure_hnsw_index

MODEL_KEY = "bench:vit-b-32-like"
DIM = 512
COPY_EVERY = 20  # every 20th image gets two near copies (similarity about 0.98), as a resize and a re-encode would


class Command(BaseCommand):
    help = "Time find_duplicates over N random 512-d images plus planted near-copies (rolled back afterwards)."

    def add_arguments(self, parser):
        parser.add_argument("--images", type=int, default=3000)

    def handle(self, images: int, **options):
        if images < COPY_EVERY:
            raise CommandError(f"--images must be at least {COPY_EVERY}")
        with transaction.atomic():
            planted = _plant(images)
            report = find_duplicates(threshold=0.95, model_key=MODEL_KEY)
            transaction.set_rollback(True)
        sizes = sorted({len(group.images) for group in report.groups})
        self.stdout.write(
            f"{report.checked} images, {len(report.groups)} groups of sizes {sizes} "
            f"({planted} planted groups of 3) in {report.seconds:.2f} s "
            f"({1000 * report.seconds / max(report.checked, 1):.1f} ms per image)"
        )


def _plant(count: int) -> int:
    rng = np.random.default_rng(0)
    ensure_hnsw_index(MODEL_KEY, DIM)
    originals = unit_rows(rng.standard_normal((count, DIM)))
    noise = 0.2 / np.sqrt(DIM)
    planted = {i: unit_rows(originals[i] + noise * rng.standard_normal((2, DIM))) for i in range(0, count, COPY_EVERY)}
    copies = [(count + 2 * i + j, copy) for i, pair in planted.items() for j, copy in enumerate(pair)]
    rows = [synthetic_image(n) for n in range(count)] + [synthetic_image(n) for n, _ in copies]
    create_with_vectors(rows, [*originals, *(copy for _, copy in copies)], model_key=MODEL_KEY)
    return len(planted)
