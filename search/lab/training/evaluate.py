"""Quick retrieval metrics for a CLIP model over one split, by exact cosine similarity in torch.

Strict recall counts only the query's own image (or, image->text, its own captions). Lenient
recall counts any image with the same attributes, since the benchmark's captions cannot tell
two renderings of "a large red circle on the left on a white background" apart. Text->image
is reported for the first caption of each image (always a full description in our benchmark,
see search.lab.datasets.captions) and for all captions, short ones like "a red circle" included.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

import numpy as np
import torch

from search.lab.datasets.captions import canonical_caption, with_article
from search.lab.datasets.shapes import BACKGROUNDS, COLOURS, POSITIONS, SHAPES, SIZES, Scene
from search.lab.training.batches import identity_key
from search.lab.training.data import TensorSplit
from search.lab.training.model import Tokenizer

RECALL_AT = (1, 5, 10)

ATTRIBUTE_VALUES: dict[str, tuple[str, ...]] = {
    "shape": SHAPES,
    "colour": tuple(COLOURS),
    "size": tuple(SIZES),
    "position": tuple(POSITIONS),
    "background": tuple(BACKGROUNDS),
}


@torch.no_grad()
def encode_images(model: torch.nn.Module, images: torch.Tensor, batch_size: int = 256) -> torch.Tensor:
    chunks = [
        model.encode_image(images[i : i + batch_size].float(), normalize=True)
        for i in range(0, len(images), batch_size)
    ]
    return torch.cat(chunks)


@torch.no_grad()
def encode_texts(model: torch.nn.Module, tokens: torch.Tensor, batch_size: int = 512) -> torch.Tensor:
    chunks = [model.encode_text(tokens[i : i + batch_size], normalize=True) for i in range(0, len(tokens), batch_size)]
    return torch.cat(chunks)


def first_relevant_rank(similarity: torch.Tensor, relevant: torch.Tensor) -> torch.Tensor:
    """For each query row, how many irrelevant items score above its best relevant one."""
    best_relevant = similarity.masked_fill(~relevant, float("-inf")).max(dim=1, keepdim=True).values
    return ((similarity > best_relevant) & ~relevant).sum(dim=1)


def recalls(ranks: torch.Tensor, prefix: str) -> dict[str, float]:
    return {f"{prefix}_r{k}": round(float((ranks < k).float().mean()), 4) for k in RECALL_AT}


def _codes(keys: list[Any]) -> torch.Tensor:
    index: dict[Any, int] = {}
    return torch.tensor([index.setdefault(key, len(index)) for key in keys])


def retrieval_metrics(
    image_features: torch.Tensor, text_features: torch.Tensor, split: TensorSplit
) -> dict[str, float]:
    owner = torch.from_numpy(split.caption_owner())
    same_image = owner[:, None] == torch.arange(len(split))[None, :]
    kind = _codes([identity_key(i, a) for i, a in enumerate(split.attributes)])
    same_kind = kind[owner][:, None] == kind[None, :]
    text_to_image = text_features @ image_features.T
    first = torch.from_numpy(split.caption_start[:-1])
    metrics: dict[str, float] = {}
    for queries, name in ((first, "t2i_first"), (torch.arange(len(owner)), "t2i_all")):
        similarity = text_to_image[queries]
        metrics |= recalls(first_relevant_rank(similarity, same_image[queries]), f"{name}_strict")
        metrics |= recalls(first_relevant_rank(similarity, same_kind[queries]), f"{name}_lenient")
    metrics |= recalls(first_relevant_rank(text_to_image.T, same_image.T), "i2t_strict")
    metrics |= recalls(first_relevant_rank(text_to_image.T, same_kind.T), "i2t_lenient")
    return metrics


def subset_metrics(
    image_features: torch.Tensor, text_features: torch.Tensor, split: TensorSplit, subset: np.ndarray, name: str
) -> dict[str, float]:
    """Text->image R@k for the first captions of `subset` images, searched among all images."""
    if len(subset) == 0:
        return {}
    kind = _codes([identity_key(i, a) for i, a in enumerate(split.attributes)])
    queries = text_features[torch.from_numpy(split.caption_start[subset])]
    similarity = queries @ image_features.T
    own = torch.from_numpy(subset)
    same_image = own[:, None] == torch.arange(len(split))[None, :]
    same_kind = kind[own][:, None] == kind[None, :]
    return {
        f"{name}_count": float(len(subset)),
        **recalls(first_relevant_rank(similarity, same_image), f"{name}_strict"),
        **recalls(first_relevant_rank(similarity, same_kind), f"{name}_lenient"),
    }


def _single_shape_images(split: TensorSplit) -> list[int]:
    return [i for i, a in enumerate(split.attributes) if a is not None and "shape" in a and "shape2" not in a]


@torch.no_grad()
def shape_query_metrics(
    model: torch.nn.Module, tokenizer: Tokenizer, image_features: torch.Tensor, split: TensorSplit
) -> dict[str, float]:
    """Shape-only queries ("a circle"): accuracy as a classifier over one-shape images (chance
    1/6), and the share of each query's top 10 images that hold that shape."""
    single = _single_shape_images(split)
    if not single:
        return {}
    prompts = encode_texts(model, tokenizer([with_article(shape) for shape in SHAPES]))
    predicted = (image_features[single] @ prompts.T).argmax(dim=1)
    truth = torch.tensor([SHAPES.index(split.attributes[i]["shape"]) for i in single])
    top10 = (prompts @ image_features.T).topk(min(10, len(split)), dim=1).indices
    holds = [
        [shape in (split.attributes[i].get("shape"), split.attributes[i].get("shape2")) for i in row]
        for shape, row in zip(SHAPES, top10.tolist(), strict=True)
    ]
    return {
        "shape_accuracy": round(float((predicted == truth).float().mean()), 4),
        "shape_query_p10": round(float(np.mean(holds)), 4),
    }


@torch.no_grad()
def in_context_accuracy(
    model: torch.nn.Module, tokenizer: Tokenizer, image_features: torch.Tensor, split: TensorSplit
) -> dict[str, float]:
    """For each attribute: with everything else in the full caption right, does the model pick
    the right value? E.g. "a large red {circle|square|...} on the left on a white background"."""
    single = _single_shape_images(split)
    if not single:
        return {}
    metrics = {}
    for attribute, values in ATTRIBUTE_VALUES.items():
        captions = [
            canonical_caption(Scene.from_attributes(split.attributes[i] | {attribute: value}))
            for i in single
            for value in values
        ]
        texts = encode_texts(model, tokenizer(captions)).view(len(single), len(values), -1)
        predicted = torch.einsum("nd,nvd->nv", image_features[single], texts).argmax(dim=1)
        truth = torch.tensor([values.index(split.attributes[i][attribute]) for i in single])
        metrics[f"{attribute}_in_context_accuracy"] = round(float((predicted == truth).float().mean()), 4)
    return metrics


def unseen_pair_images(split: TensorSplit, seen_pairs: Collection[tuple[str, str]]) -> np.ndarray:
    """Images whose first shape's (colour, shape) pair never occurs in `seen_pairs`."""
    return np.array(
        [i for i, a in enumerate(split.attributes) if a is not None and (a["colour"], a["shape"]) not in seen_pairs],
        dtype=np.int64,
    )


def evaluate_split(
    model: torch.nn.Module,
    tokenizer: Tokenizer,
    split: TensorSplit,
    *,
    seen_pairs: Collection[tuple[str, str]] | None = None,
    probes: bool = True,
) -> dict[str, float]:
    """All metrics for one split; held-out figures only when `seen_pairs` (from training) is given.

    probes=False skips the in-context attribute probes, the slowest part, for evaluations
    during training.
    """
    was_training = model.training
    model.eval()
    try:
        image_features = encode_images(model, split.images)
        text_features = encode_texts(model, split.tokens)
        metrics = retrieval_metrics(image_features, text_features, split)
        metrics |= shape_query_metrics(model, tokenizer, image_features, split)
        if probes:
            metrics |= in_context_accuracy(model, tokenizer, image_features, split)
        if seen_pairs is not None:
            unseen = unseen_pair_images(split, seen_pairs)
            metrics |= subset_metrics(image_features, text_features, split, unseen, "t2i_heldout")
    finally:
        model.train(was_training)
    return metrics
