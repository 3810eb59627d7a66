"""Train one of the project's small CLIP configs from scratch on a captioned dataset, on CPU.

open_clip's ClipLoss and evaluation preprocessing, AdamW with linear warmup then cosine decay,
and batches of look-alike groups (search.lab.training.batches). Random crops and flips are left
out on purpose: they would make "on the left" and "at the top" unlearnable.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from open_clip.loss import ClipLoss

from search.lab.datasets.dataset import read_dataset
from search.lab.training.batches import GroupedBatches
from search.lab.training.checkpoint import save_checkpoint, write_report
from search.lab.training.data import TensorSplit, tensor_split
from search.lab.training.evaluate import evaluate_split
from search.lab.training.model import create_clip, model_config, model_name

MAX_LOGIT_SCALE = math.log(100)  # open_clip's own clamp, so logits stay in a trainable range


@dataclass
class TrainOptions:
    out_dir: Path
    data_dir: Path
    config: str = "tiny"
    steps: int | None = None
    minutes: float | None = None
    seed: int = 0
    # The recipe that shipped tests/fixtures/clip/imagesearch-tiny.pt (4000 steps). At lr 1e-3 the vision
    # tower never learned position within a CPU budget; 5e-4 with a 10% warmup learns it by step ~1000,
    # and smaller batches of 4 look-alike groups give more steps per minute with hard enough negatives.
    batch_size: int = 128
    groups_per_batch: int = 4
    lr: float = 5e-4
    weight_decay: float = 0.1
    warmup: float = 0.1  # share of the run spent warming up
    threads: int = 2
    eval_every: int = 0  # steps between evaluations on val (or test); 0: only at the end
    log_every: int = 50
    command: str = ""


@dataclass
class TrainResult:
    model: torch.nn.Module
    checkpoint: Path
    steps: int
    seconds: float
    metrics: dict[str, dict[str, float]] = field(default_factory=dict)


class Budget:
    """A run's length as a fixed step count or a wall-clock limit; progress runs 0 -> 1."""

    def __init__(self, steps: int | None, minutes: float | None) -> None:
        if (steps is None) == (minutes is None):
            raise ValueError("Give exactly one of steps or minutes")
        self.steps, self.seconds = steps, None if minutes is None else minutes * 60
        self.started = time.monotonic()

    def elapsed(self) -> float:
        return time.monotonic() - self.started

    def progress(self, step: int) -> float:
        if self.steps is not None:
            return step / self.steps
        return self.elapsed() / self.seconds

    def done(self, step: int) -> bool:
        return self.progress(step) >= 1.0


def learning_rate(progress: float, peak: float, warmup: float) -> float:
    if progress < warmup:
        return peak * (progress + 1e-3) / warmup
    decay = (progress - warmup) / max(1e-8, 1.0 - warmup)
    return 0.5 * peak * (1.0 + math.cos(math.pi * min(1.0, decay)))


def parameter_groups(model: torch.nn.Module, weight_decay: float) -> list[dict[str, Any]]:
    # As in open_clip's training: no decay on gains, biases and the temperature.
    decay, no_decay = [], []
    for name, parameter in model.named_parameters():
        skip = parameter.ndim < 2 or "ln" in name or "bias" in name or "logit_scale" in name
        (no_decay if skip else decay).append(parameter)
    return [{"params": no_decay, "weight_decay": 0.0}, {"params": decay, "weight_decay": weight_decay}]


def seen_pairs(split: TensorSplit) -> set[tuple[str, str]] | None:
    """(colour, shape) pairs in the training images; None for data without those attributes."""
    pairs = set()
    for attributes in split.attributes:
        for suffix in ("", "2"):
            if attributes and f"shape{suffix}" in attributes:
                pairs.add((attributes[f"colour{suffix}"], attributes[f"shape{suffix}"]))
    return pairs or None


def load_splits(
    data_dir: Path, preprocess: Callable, tokenizer: Callable, progress: Callable[[Iterable], Iterable]
) -> dict[str, TensorSplit]:
    items = read_dataset(data_dir)
    splits = {}
    for name in ("train", "val", "test"):
        members = [i for i in items if (i.is_training if name == "train" else i.split == name)]
        if members:
            splits[name] = tensor_split(members, preprocess, tokenizer, progress=progress)
    if "train" not in splits:
        raise ValueError(f"No training images in {data_dir}")
    return splits


def train_clip(
    options: TrainOptions,
    *,
    log: Callable[[str], None] = print,
    progress: Callable[[Iterable], Iterable] = iter,
) -> TrainResult:
    """Train, evaluate and save; see search.lab.training.checkpoint for what lands in out_dir."""
    torch.manual_seed(options.seed)
    torch.set_num_threads(options.threads)
    name = model_name(options.config)
    model, preprocess, tokenizer = create_clip(name)
    splits = load_splits(options.data_dir, preprocess, tokenizer, progress)
    train = splits["train"]
    pairs = seen_pairs(train)
    monitor = splits.get("val") or splits.get("test")

    def evaluate(split: TensorSplit, probes: bool = True) -> dict[str, float]:
        return evaluate_split(model, tokenizer, split, seen_pairs=pairs, probes=probes)

    def quick_evaluate(split: TensorSplit) -> dict[str, float]:
        return evaluate(split, probes=False)

    budget = Budget(options.steps, options.minutes)
    steps = _run_steps(model, train, options, budget, log, quick_evaluate if options.eval_every else None, monitor)
    seconds = budget.elapsed()
    metrics = {split_name: evaluate(split) for split_name, split in splits.items() if split_name != "train"}
    checkpoint = save_checkpoint(model, options.out_dir, name, model_config(name))
    write_report(options.out_dir, _report(options, name, steps, seconds, splits, metrics))
    log(f"Trained {steps} steps in {seconds / 60:.1f} min; wrote {checkpoint}")
    return TrainResult(model=model, checkpoint=checkpoint, steps=steps, seconds=seconds, metrics=metrics)


def _run_steps(
    model: torch.nn.Module,
    train: TensorSplit,
    options: TrainOptions,
    budget: Budget,
    log: Callable[[str], None],
    evaluate: Callable[[TensorSplit], dict[str, float]] | None,
    monitor: TensorSplit | None,
) -> int:
    rng = np.random.default_rng(options.seed)
    batches = iter(
        GroupedBatches(
            train.attributes, batch_size=options.batch_size, groups_per_batch=options.groups_per_batch, rng=rng
        )
    )
    optimizer = torch.optim.AdamW(
        parameter_groups(model, options.weight_decay), lr=options.lr, betas=(0.9, 0.98), eps=1e-6
    )
    model.train()
    step = 0
    while not budget.done(step):
        for group in optimizer.param_groups:
            group["lr"] = learning_rate(budget.progress(step), options.lr, options.warmup)
        loss, logit_scale = _step(model, optimizer, train, next(batches), rng)
        step += 1
        if step % options.log_every == 0:
            log(
                f"step {step} loss {loss:.3f} lr {optimizer.param_groups[0]['lr']:.2e} "
                f"scale {logit_scale:.1f} {budget.elapsed():.0f}s"
            )
        if evaluate and monitor and step % options.eval_every == 0:
            log(f"step {step} {headline(evaluate(monitor))}")
    return step


def _step(model, optimizer, train: TensorSplit, indices, rng) -> tuple[float, float]:
    """One optimisation step on a batch; its loss and the logit scale."""
    image_features, text_features, logit_scale = model(train.images[indices].float(), train.random_tokens(indices, rng))
    loss = ClipLoss()(image_features, text_features, logit_scale)
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    optimizer.step()
    with torch.no_grad():
        model.logit_scale.clamp_(0, MAX_LOGIT_SCALE)
    return loss.item(), logit_scale.item()


def headline(metrics: dict[str, float]) -> str:
    """The few figures worth watching during a run."""
    keys = ("t2i_first_strict_r1", "t2i_first_lenient_r1", "t2i_all_lenient_r1", "i2t_strict_r1", "shape_accuracy")
    probes = [
        f"{key.split('_')[0]} {value:.2f}" for key, value in metrics.items() if key.endswith("in_context_accuracy")
    ]
    return " ".join([*(f"{key} {metrics[key]:.3f}" for key in keys if key in metrics), *probes])


def _report(
    options: TrainOptions,
    name: str,
    steps: int,
    seconds: float,
    splits: dict[str, TensorSplit],
    metrics: dict[str, dict[str, float]],
) -> dict[str, Any]:
    return {
        "model": name,
        "command": options.command,
        "options": {key: str(value) if isinstance(value, Path) else value for key, value in asdict(options).items()},
        "steps": steps,
        "minutes": round(seconds / 60, 2),
        "torch": torch.__version__,
        "images": {split_name: len(split) for split_name, split in splits.items()},
        "metrics": metrics,
    }
