"""manage.py train_clip OUT --config tiny [--data DIR] [--steps N | --minutes M]: train a small CLIP."""

import shlex
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from search.lab.training.train import TrainOptions, train_clip

DEFAULT_STEPS = 4000  # the shipped checkpoint's run (12 minutes on 2 idle cores)


class Command(BaseCommand):
    help = "Train one of search/clip_configs/ from scratch on a captioned dataset (CPU) and save it to OUT."

    def add_arguments(self, parser):
        parser.add_argument("out", type=Path, help="output folder for the checkpoint and training.json")
        parser.add_argument("--config", default="tiny", help="'tiny' means search/clip_configs/imagesearch-tiny.json")
        parser.add_argument("--data", type=Path, default=Path("var/bench"), help="folder with dataset.json + images/")
        length = parser.add_mutually_exclusive_group()
        length.add_argument("--steps", type=int, help="optimiser steps (reproducible)")
        length.add_argument("--minutes", type=float, help="wall-clock budget instead of a step count")
        parser.add_argument("--seed", type=int, default=0)
        parser.add_argument("--batch", type=int, default=TrainOptions.batch_size)
        parser.add_argument(
            "--groups-per-batch", type=int, default=TrainOptions.groups_per_batch, help="look-alike groups per batch"
        )
        parser.add_argument("--lr", type=float, default=TrainOptions.lr, help="peak learning rate")
        parser.add_argument("--warmup", type=float, default=TrainOptions.warmup, help="share of the run warming up")
        parser.add_argument("--threads", type=int, default=2, help="torch CPU threads")
        parser.add_argument("--eval-every", type=int, default=0, help="steps between val evaluations")

    def handle(self, *args, **opts):
        if opts["steps"] is None and opts["minutes"] is None:
            opts["steps"] = DEFAULT_STEPS
        options = TrainOptions(
            out_dir=opts["out"],
            data_dir=opts["data"],
            config=opts["config"],
            steps=opts["steps"],
            minutes=opts["minutes"],
            seed=opts["seed"],
            batch_size=opts["batch"],
            groups_per_batch=opts["groups_per_batch"],
            lr=opts["lr"],
            warmup=opts["warmup"],
            threads=opts["threads"],
            eval_every=opts["eval_every"],
            command=command_line(opts),
        )
        show = opts["verbosity"] > 0
        try:
            result = train_clip(
                options,
                log=self.stdout.write if show else lambda line: None,
                progress=lambda items: tqdm(items, unit="image", desc="preprocess", disable=not show),
            )
        except ValueError as error:
            raise CommandError(str(error)) from error
        for split, metrics in result.metrics.items():
            self.stdout.write(f"{split}: {metrics}")


def command_line(opts: dict) -> str:
    """The run as a full command line, defaults spelled out, for the report beside the checkpoint."""
    length = ["--steps", opts["steps"]] if opts["steps"] is not None else ["--minutes", opts["minutes"]]
    words = ["manage.py", "train_clip", opts["out"], "--config", opts["config"], "--data", opts["data"], *length]
    for flag in ("seed", "batch", "groups_per_batch", "lr", "warmup", "threads"):
        words += [f"--{flag.replace('_', '-')}", opts[flag]]
    return shlex.join(str(word) for word in words)
