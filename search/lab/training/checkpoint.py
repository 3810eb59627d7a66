"""What a training run leaves in its output folder.

<name>.pt                     fp16 state dict: open_clip.create_model_and_transforms(name, pretrained=path)
open_clip_config.json         model + preprocess config, for open_clip's "local-dir:OUT" form
open_clip_pytorch_model.bin   a hard link to <name>.pt, the file name "local-dir:" looks for
training.json                 command, seed, steps, data sizes and final metrics
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import Any

import open_clip
import torch

LOCAL_DIR_WEIGHTS = "open_clip_pytorch_model.bin"


def half_state_dict(model: torch.nn.Module) -> dict[str, torch.Tensor]:
    # fp16 halves the file; the model is small enough that fp16 rounding stays far below
    # the gaps between its similarity scores.
    return {
        key: value.detach().to(torch.float16) if value.is_floating_point() else value
        for key, value in model.state_dict().items()
    }


def save_checkpoint(model: torch.nn.Module, out_dir: Path, name: str, model_cfg: dict[str, Any]) -> Path:
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / f"{name}.pt"
    torch.save(half_state_dict(model), path)
    config = {"model_cfg": model_cfg, "preprocess_cfg": open_clip.get_model_preprocess_cfg(model)}
    (out_dir / "open_clip_config.json").write_text(json.dumps(config, indent=2) + "\n")
    _link_or_copy(path, out_dir / LOCAL_DIR_WEIGHTS)
    return path


def _link_or_copy(source: Path, target: Path) -> None:
    target.unlink(missing_ok=True)
    try:
        os.link(source, target)
    except OSError:
        shutil.copyfile(source, target)


def write_report(out_dir: Path, report: dict[str, Any]) -> Path:
    path = out_dir / "training.json"
    path.write_text(json.dumps(report, indent=2) + "\n")
    return path
