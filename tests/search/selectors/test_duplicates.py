"""Near-duplicate groups found through the HNSW index: copies grouped, the rest apart, models kept apart."""

import pytest

from search.models import Image
from search.selectors.duplicates import find_duplicates
from search.vector_index import ensure_hnsw_index
from tests.factories import image_row, unit_vector

pytestmark = pytest.mark.django_db


def test_resized_and_re_encoded_copies_are_grouped_with_their_original(collection):
    report = find_duplicates(threshold=0.95)
    groups = [{image.original_name for image in group.images} for group in report.groups]
    assert groups == [{"night.png", "night-small.png", "night-q40.jpg"}]
    assert report.checked == 5
    # A full-size copy is offered as the one to keep.
    assert report.groups[0].images[0].original_name in {"night.png", "night-q40.jpg"}
    assert report.groups[0].similarity > 0.99


def test_unrelated_images_are_not_grouped(collection):
    close = {image.id for group in find_duplicates(threshold=0.95).groups for image in group.images}
    assert collection["stripes.png"].id not in close and collection["checks.png"].id not in close


def test_hidden_images_are_left_out(collection):
    Image.objects.filter(original_name__startswith="night-").update(hidden=True)
    assert find_duplicates(threshold=0.95).groups == []


def test_chains_of_close_pairs_form_one_group_and_models_stay_apart(db):
    for model_key in ("m:a", "m:b"):
        ensure_hnsw_index(model_key, 32)  # before any row: a transaction with new rows cannot create an index
    base = unit_vector(32, seed=1)
    near = base + 0.05 * unit_vector(32, seed=2)
    nearer = near + 0.05 * unit_vector(32, seed=3)
    ids = [image_row(vector=v / (v**2).sum() ** 0.5, model_key="m:a").id for v in (base, near, nearer)]
    image_row(vector=unit_vector(32, seed=4), model_key="m:a")
    image_row(vector=base, model_key="m:b")  # the same vector, from another model: never compared
    report = find_duplicates(threshold=0.99)
    assert [sorted(group.ids) for group in report.groups] == [sorted(ids)]
    assert report.checked == 5
