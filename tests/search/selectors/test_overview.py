"""What a new user's home page says about the collection."""

import pytest

from search.models import Image
from search.selectors.overview import collection_overview

pytestmark = pytest.mark.django_db


def test_the_overview_counts_visible_images_and_offers_short_captions_to_try(collection):
    night, stripes, checks = collection["night.png"], collection["stripes.png"], collection["checks.png"]
    Image.objects.filter(pk=night.pk).update(caption="a quiet night sky")
    Image.objects.filter(pk=stripes.pk).update(caption="stripes " * 20)  # too long to offer as an example
    Image.objects.filter(pk=checks.pk).update(hidden=True, caption="hidden checks")
    overview = collection_overview()
    assert overview.image_count == len(collection) - 1
    assert overview.examples == ["a quiet night sky"]
    assert overview.categories == ["scenes"]


def test_without_captions_the_categories_are_the_examples(collection):
    assert collection_overview().examples == ["scenes"]
