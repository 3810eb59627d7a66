"""The project's CLIP configs as open_clip models: register once, then create by name.

search/clip_configs/ holds open_clip model configs named "imagesearch-<config>"; the product
loads the same names, so a checkpoint trained here loads there unchanged.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from pathlib import Path
from typing import Any

import open_clip
import torch

CONFIG_DIR = Path(__file__).resolve().parent.parent / "clip_configs"
NAME_PREFIX = "imagesearch-"

Tokenizer = Callable[[list[str]], torch.Tensor]
Preprocess = Callable[[Any], torch.Tensor]


def model_name(config: str) -> str:
    """'tiny' -> 'imagesearch-tiny'; a full name passes through."""
    return config if config.startswith(NAME_PREFIX) else NAME_PREFIX + config


@functools.cache
def register_configs() -> None:
    # Cached: open_clip appends the folder and rescans every config on each call.
    open_clip.add_model_config(CONFIG_DIR)


def model_config(name: str) -> dict[str, Any]:
    register_configs()
    config = open_clip.get_model_config(name)
    if config is None:
        raise ValueError(f"No open_clip config named {name!r} in {CONFIG_DIR}")
    return config


def create_clip(name: str, *, pretrained: str | None = None) -> tuple[torch.nn.Module, Preprocess, Tokenizer]:
    """Model, evaluation preprocessing and tokenizer, exactly as open_clip builds them for `name`."""
    register_configs()
    model, _, preprocess = open_clip.create_model_and_transforms(name, pretrained=pretrained)
    return model, preprocess, open_clip.get_tokenizer(name)
