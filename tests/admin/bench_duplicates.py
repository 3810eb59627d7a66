"""Timing of the near-duplicate finder on a few thousand images (not part of the suite: run it by name).

IMAGESEARCH_TEST_DB=test_admin nice .venv/bin/pytest tests/admin/bench_duplicates.py -q -s -p no:cacheprovider
"""

import os

import numpy as np
import pytest

from search.benchmarking.rows import synthetic_image, unit_rows
from search.duplicates import find_duplicates
from search.models import Image
from search.vector_index import ensure_hnsw_index

MODEL_KEY = "bench:vit-b-32-like"
DIM = 512


@pytest.mark.django_db
@pytest.mark.slow
def test_duplicate_finder_timing():
    count = int(os.environ.get("BENCH_IMAGES", "3000"))
    rng = np.random.default_rng(0)
    ensure_hnsw_index(MODEL_KEY, DIM)
    originals = unit_rows(rng.standard_normal((count, DIM)))
    # Every 20th image gets two near copies (similarity about 0.98), as a resize and a re-encode would.
    noise = 0.2 / np.sqrt(DIM)
    planted = {i: unit_rows(originals[i] + noise * rng.standard_normal((2, DIM))) for i in range(0, count, 20)}
    rows = [synthetic_image(n, vector, model_key=MODEL_KEY) for n, vector in enumerate(originals)]
    rows += [
        synthetic_image(count + 2 * i + j, copy, model_key=MODEL_KEY)
        for i, copies in planted.items()
        for j, copy in enumerate(copies)
    ]
    Image.objects.bulk_create(rows, batch_size=1000)
    report = find_duplicates(threshold=0.95, model_key=MODEL_KEY)
    sizes = sorted(len(group.images) for group in report.groups)
    print(f"\n{report.checked} images, {len(report.groups)} groups (sizes {set(sizes)}) in {report.seconds:.2f} s")
    assert report.checked == count + 2 * len(planted)
    assert len(report.groups) == len(planted) and set(sizes) == {3}
