"""manage.py reindex: progress and counts."""

import pytest
from django.core.management import CommandError

from search.models import ImageVector
from tests.factories import command_output

pytestmark = pytest.mark.django_db


def test_reindex_reports_progress_and_counts(folder):
    command_output("ingest", str(folder))
    ImageVector.objects.update(embedding_model="Old:tag")
    output = command_output("reindex")
    assert "3 images to embed" in output
    assert "updated 3, failed 0" in output


def test_reindex_index_builds_another_kind_and_drops_the_others_once_searches_use_it(folder, settings):
    from search.encoder import get_encoder
    from search.lab.speed.synthetic import relation_size
    from search.vector_index import hnsw_index_name

    settings.VECTOR_INDEX = "halfvec"
    command_output("ingest", str(folder))  # builds the VECTOR_INDEX kind
    key = get_encoder().model_key
    output = command_output("reindex", "--index", "bit")
    assert f"HNSW index (bit) {hnsw_index_name(key, kind='bit')}: ready" in output
    assert "set VECTOR_INDEX=bit to use it" in output
    assert relation_size(hnsw_index_name(key, kind="halfvec")) and relation_size(hnsw_index_name(key, kind="bit"))
    with pytest.raises(CommandError, match="searches use VECTOR_INDEX=halfvec"):
        command_output("reindex", "--index", "bit", "--drop-other-indexes")
    settings.VECTOR_INDEX = "bit"
    output = command_output("reindex", "--index", "bit", "--drop-other-indexes")
    assert f"dropped {hnsw_index_name(key, kind='halfvec')}" in output
    assert not relation_size(hnsw_index_name(key, kind="halfvec"))
