"""Training batches made of a few groups of look-alike images.

A contrastive loss only learns to tell apart what shares a batch. In a random batch the
cheapest cue (colour, background) already separates almost every pair, so shape and position
stay unlearned. Filling each batch with `groups_per_batch` chunks of images that share colour
and background makes the in-batch negatives differ in shape, size and position instead; the
chunks from other groups still teach colour and background.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Hashable, Iterator, Sequence
from typing import Any

import numpy as np

GROUP_ATTRIBUTES = ("colour", "background")


def group_key(attributes: dict[str, Any] | None) -> Hashable:
    """Images with the same key are hard negatives for each other; no attributes, one group."""
    if attributes is None:
        return None
    return tuple(attributes.get(name) for name in GROUP_ATTRIBUTES)


def identity_key(index: int, attributes: dict[str, Any] | None) -> Hashable:
    """Images with the same key fit the same captions, so one batch should hold at most one."""
    return index if attributes is None else tuple(sorted(attributes.items()))


def unique_chunks(indices: Sequence[int], identities: Sequence[Hashable], size: int) -> list[list[int]]:
    """Split indices into full chunks of `size` with no identity twice in a chunk.

    A duplicate would be a false negative for the loss; it waits for a later chunk instead.
    What cannot fill a whole chunk is left out of this epoch.
    """
    chunks, pending = [], list(indices)
    while len(pending) >= size:
        chunk, seen, rest = [], set(), []
        for position, index in enumerate(pending):
            if len(chunk) == size:
                rest.extend(pending[position:])
                break
            if identities[index] in seen:
                rest.append(index)
            else:
                chunk.append(index)
                seen.add(identities[index])
        if len(chunk) < size:
            break
        chunks.append(chunk)
        pending = rest
    return chunks


class GroupedBatches:
    def __init__(
        self,
        attributes: Sequence[dict[str, Any] | None],
        *,
        batch_size: int,
        groups_per_batch: int,
        rng: np.random.Generator,
    ) -> None:
        if batch_size % groups_per_batch:
            raise ValueError("batch_size must be a multiple of groups_per_batch")
        self.chunk_size = batch_size // groups_per_batch
        self.groups_per_batch = groups_per_batch
        self.rng = rng
        self.identities = [identity_key(i, a) for i, a in enumerate(attributes)]
        groups: dict[Hashable, list[int]] = defaultdict(list)
        for index, image_attributes in enumerate(attributes):
            groups[group_key(image_attributes)].append(index)
        self.groups = [np.array(members) for members in groups.values()]

    def epoch(self) -> list[np.ndarray]:
        chunks = []
        for members in self.groups:
            shuffled = self.rng.permutation(members).tolist()
            chunks.extend(unique_chunks(shuffled, self.identities, self.chunk_size))
        order = self.rng.permutation(len(chunks))
        whole = len(order) - len(order) % self.groups_per_batch
        return [
            np.concatenate([chunks[i] for i in order[start : start + self.groups_per_batch]])
            for start in range(0, whole, self.groups_per_batch)
        ]

    def __iter__(self) -> Iterator[np.ndarray]:
        while True:
            batches = self.epoch()
            if not batches:
                raise ValueError("Too few images for one batch; lower batch_size or groups_per_batch")
            yield from batches
