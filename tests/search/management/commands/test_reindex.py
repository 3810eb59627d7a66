"""manage.py reindex: progress and counts."""

import pytest

from search.models import Image
from tests.factories import command_output

pytestmark = pytest.mark.django_db


def test_reindex_reports_progress_and_counts(folder):
    command_output("ingest", str(folder))
    Image.objects.update(embedding_model="Old:tag")
    output = command_output("reindex")
    assert "3 images to embed" in output
    assert "updated 3, failed 0" in output
