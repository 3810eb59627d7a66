"""Migration 0010 gives each indexed collection the index of the VECTOR_INDEX kind (default now halfvec)."""

import os
import subprocess
import sys

import pytest
from django.db import connection

from search.vector_index import HALFVEC, INDEX_KINDS, create_index, hnsw_index_name, index_definition
from tests.factories import unit_vector

BEFORE = [("search", "0009_embedding_at_half_precision")]
AFTER = [("search", "0010_halfvec_index_by_default")]
INDEXED, UNINDEXED = "m:indexed", "m:unindexed"


def _valid_indexes(model_key: str) -> set[str]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.relname FROM pg_class c JOIN pg_index i ON i.indexrelid = c.oid WHERE i.indisvalid AND "
            "c.relname = ANY(%s)",
            [[hnsw_index_name(model_key, kind=kind) for kind in INDEX_KINDS]],
        )
        return {name for (name,) in cursor.fetchall()}


def _write_rows(apps, model_key: str) -> None:
    fields = {"width": 1, "height": 1, "format": "JPEG", "byte_size": 1, "embedding_model": model_key}
    for seed in range(3):
        apps.get_model("search", "Image").objects.create(
            sha256=f"{model_key}{seed}", embedding=unit_vector(8, seed), **fields
        )


def old_index(model_key: str, dimensions: int, kind: str) -> None:
    """An HNSW index on search_image, where the vectors were before migration 0011."""
    definition = index_definition(kind, dimensions)
    name = hnsw_index_name(model_key, kind=kind)
    create_index(name, f"search_image USING hnsw ({definition}) WHERE embedding_model = %s", [model_key])


def test_the_default_kind_is_halfvec():
    environment = {name: value for name, value in os.environ.items() if name != "VECTOR_INDEX"}
    environment["IMAGESEARCH_ENV_FILE"] = os.devnull  # no .env: the default itself
    printed = subprocess.run(
        [sys.executable, "-c", "import imagesearch.settings as s; print(s.VECTOR_INDEX)"],
        env=environment,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert printed.strip() == HALFVEC


@pytest.fixture
def indexes_dropped_afterwards():
    yield
    with connection.cursor() as cursor:  # a flush empties the table but keeps its indexes
        for kind in INDEX_KINDS:
            cursor.execute(f"DROP INDEX IF EXISTS {hnsw_index_name(INDEXED, kind=kind)}")


@pytest.mark.django_db(transaction=True)  # the index is built CONCURRENTLY, as in a deployment's migrate
@pytest.mark.parametrize(
    "configured, before, after",
    [
        ("halfvec", {"vector"}, {"halfvec"}),  # the old default, upgraded
        ("bit", {"vector"}, {"bit"}),
        ("vector", {"vector"}, {"vector"}),  # chosen on purpose: kept
        ("halfvec", {"vector", "bit"}, {"halfvec", "bit"}),  # a bit index built ahead of a switch stays
        ("halfvec", {"vector", "halfvec"}, {"vector", "halfvec"}),  # already has its kind: nothing to do
    ],
)
def test_a_vector_index_is_replaced_by_the_configured_kind(
    migrate, settings, configured, before, after, indexes_dropped_afterwards
):
    apps = migrate(BEFORE)
    _write_rows(apps, INDEXED)
    _write_rows(apps, UNINDEXED)
    for kind in before:
        old_index(INDEXED, 8, kind)
    settings.VECTOR_INDEX = configured
    migrate(AFTER)
    assert _valid_indexes(INDEXED) == {hnsw_index_name(INDEXED, kind=kind) for kind in after}
    assert _valid_indexes(UNINDEXED) == set()  # left to the next ingest, which builds it
