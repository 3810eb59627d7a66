"""The project's CLIP configs as open_clip models, created by name.

search/clip_configs/ holds open_clip model configs named "imagesearch-<config>", registered by the product's own
search.encoder.open_clip_with_project_configs; the product loads the same names, so a checkpoint trained here
loads there unchanged.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch

from search.encoder import PROJECT_CONFIG_DIR, open_clip_with_project_configs

NAME_PREFIX = "imagesearch-"

Tokenizer = Callable[[list[str]], torch.Tensor]
Preprocess = Callable[[Any], torch.Tensor]


def model_name(config: str) -> str:
    """'tiny' -> 'imagesearch-tiny'; a full name passes through."""
    return config if config.startswith(NAME_PREFIX) else NAME_PREFIX + config


def model_config(name: str) -> dict[str, Any]:
    config = open_clip_with_project_configs().get_model_config(name)
    if config is None:
        raise ValueError(f"No open_clip config named {name!r} in {PROJECT_CONFIG_DIR}")
    return config


def create_clip(name: str, *, pretrained: str | None = None) -> tuple[torch.nn.Module, Preprocess, Tokenizer]:
    """Model, evaluation preprocessing and tokenizer, exactly as open_clip builds them for `name`."""
    open_clip = open_clip_with_project_configs()
    model, _, preprocess = open_clip.create_model_and_transforms(name, pretrained=pretrained)
    return model, preprocess, open_clip.get_tokenizer(name)
