"""The system check that warns when the collection holds vectors of another model than the configured one."""

import pytest

from search.checks import vectors_of_another_model
from tests.factories import image_row, unit_vector

pytestmark = pytest.mark.django_db


def test_images_of_another_model_are_counted_with_what_to_do(encoder):
    image_row(vector=unit_vector(encoder.dim, 1), model_key=encoder.model_key)
    for seed in range(3):
        image_row(vector=unit_vector(8, seed), model_key="ViT-B-32:laion2b_s34b_b79k")
    warnings = vectors_of_another_model(databases=["default"])
    assert len(warnings) == 1 and warnings[0].id == "search.W001"
    assert warnings[0].msg.startswith("3 images carry vectors of another model")
    assert "manage.py reindex" in warnings[0].hint


def test_a_collection_of_the_configured_model_passes(encoder):
    image_row(vector=unit_vector(encoder.dim, 1), model_key=encoder.model_key)
    assert vectors_of_another_model(databases=["default"]) == []
    assert vectors_of_another_model(databases=None) == []  # only when databases are checked


def test_a_collection_without_the_index_its_setting_names_is_warned_about(encoder, settings):
    from search.checks import vector_index_missing
    from search.vector_index import ensure_hnsw_index

    image_row(vector=unit_vector(encoder.dim, 1), model_key=encoder.model_key)
    settings.VECTOR_INDEX = "halfvec"
    ensure_hnsw_index(encoder.model_key, encoder.dim, kind="halfvec")
    assert vector_index_missing(databases=["default"]) == []
    settings.VECTOR_INDEX = "bit"
    (warning,) = vector_index_missing(databases=["default"])
    assert warning.id == "search.W002" and "manage.py reindex --index bit" in warning.hint
