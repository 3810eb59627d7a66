"""image_vectors_save: the one writer of the vector table."""

import numpy as np
import pytest

from search.models import Image, ImageVector
from search.services.images import image_vectors_save
from tests.factories import image_row, unit_vector

pytestmark = pytest.mark.django_db


def test_a_new_vector_replaces_the_old_one_and_its_model_key():
    image = image_row(vector=unit_vector(8, 1), model_key="old:model")
    image_vectors_save([(image.id, unit_vector(8, 2))], "new:model")
    stored = ImageVector.objects.get(image=image)
    assert stored.embedding_model == "new:model"
    np.testing.assert_allclose(np.asarray(stored.embedding), unit_vector(8, 2), atol=1e-3)
    assert ImageVector.objects.count() == 1


def test_an_image_deleted_while_its_vector_was_made_is_skipped():
    kept = image_row(vector=unit_vector(8, 1), model_key="m:1")
    gone = image_row(vector=unit_vector(8, 2), model_key="m:1")
    gone_id = gone.id
    gone.delete()
    image_vectors_save([(kept.id, unit_vector(8, 3)), (gone_id, unit_vector(8, 4))], "m:2")
    assert list(ImageVector.objects.values_list("image_id", "embedding_model")) == [(kept.id, "m:2")]
    assert not Image.objects.filter(id=gone_id).exists()
