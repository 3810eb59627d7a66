"""manage.py bench_photos: the upload/ingest, rescan, thumbnail and filtered-query tables, from small numbers."""

import re

import pytest

from search.models import Image
from tests.factories import command_output, image_row, unit_vector

# Autocommit, as the command runs: a large upload queues its job when its transaction commits.
pytestmark = pytest.mark.django_db(transaction=True)


def test_bench_photos_prints_every_table_and_leaves_other_rows_alone(encoder):
    simulated = image_row(vector=unit_vector(16, 1), model_key="simulated:other")
    output = command_output(
        "bench_photos",
        "--images",
        "4",
        "--size",
        "96x72",
        "--rescan-files",
        "30",
        "--filtered-rows",
        "2000",
        "--dim",
        "16",
        "--queries",
        "5",
    )
    assert re.search(r"\| folder ingest \(manage.py ingest\) \| [\d.]+ \| 1.00x \|", output)
    assert "| POST /api/images/, 8 per request |" in output and "all in one request: a job |" in output
    assert re.search(r"Rescan of 30 unchanged in-place files: [\d.]+ s .*30 unchanged, 0 added", output)
    assert re.search(r"\| webp \| [\d,]+ \|", output) and re.search(r"\| jpeg \| [\d,]+ \|", output)
    assert re.search(r"\| within 1% \| [\d.]+ \| [\d.]+ \| [\d.]+ \| 100% \|", output)
    assert list(Image.objects.values_list("id", flat=True)) == [simulated.id]
