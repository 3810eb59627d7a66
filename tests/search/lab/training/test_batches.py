import itertools

import numpy as np
import pytest

from search.lab.datasets.shapes import generate_samples
from search.lab.training.batches import GroupedBatches, group_key, identity_key, unique_chunks


@pytest.fixture(scope="module")
def attributes():
    return [sample.attributes for sample in generate_samples(0, {"train": 2000})]


def test_each_chunk_shares_colour_and_background(attributes):
    batches = GroupedBatches(attributes, batch_size=64, groups_per_batch=4, rng=np.random.default_rng(0))

    batch = next(iter(batches))

    assert len(batch) == 64
    for chunk in np.split(batch, 4):
        assert len({group_key(attributes[i]) for i in chunk}) == 1
        assert len({identity_key(i, attributes[i]) for i in chunk}) == len(chunk)


def test_an_epoch_uses_each_image_at_most_once(attributes):
    batches = GroupedBatches(attributes, batch_size=64, groups_per_batch=4, rng=np.random.default_rng(0))

    used = np.concatenate(batches.epoch())

    # Each group leaves out what cannot fill a whole chunk: here up to 15 of about 54 images.
    assert len(used) == len(set(used.tolist())) > 0.7 * len(attributes)


def test_images_without_attributes_form_plain_batches():
    batches = GroupedBatches([None] * 100, batch_size=32, groups_per_batch=2, rng=np.random.default_rng(0))

    first_three = list(itertools.islice(batches, 3))

    assert [len(batch) for batch in first_three] == [32, 32, 32]


def test_unique_chunks_defer_duplicates():
    identities = ["a", "a", "b", "c", "a", "d"]

    chunks = unique_chunks(range(6), identities, size=2)

    assert chunks == [[0, 2], [1, 3], [4, 5]]
