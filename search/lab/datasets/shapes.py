"""Procedural scenes of coloured shapes: the vocabulary, scene sampling and rendering.

Everything is drawn from a numpy Generator seeded by (seed, split, index), so one sample
never depends on how many others were drawn before it: a dataset is reproducible from its
seed and sizes alone, and any single image can be regenerated on its own.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass, field

import numpy as np
from PIL import Image, ImageDraw

from search.lab.datasets.captions import scene_captions

SHAPES = ("circle", "square", "triangle", "star", "hexagon", "cross")
COLOURS: dict[str, tuple[int, int, int]] = {
    "red": (215, 35, 35),
    "green": (40, 165, 60),
    "blue": (40, 85, 215),
    "yellow": (240, 215, 40),
    "orange": (245, 135, 25),
    "purple": (135, 55, 175),
    "pink": (245, 125, 185),
    "brown": (125, 75, 35),
    "white": (245, 245, 245),
    "black": (20, 20, 20),
}
BACKGROUNDS: dict[str, tuple[int, int, int]] = {
    "white": (240, 240, 240),
    "black": (15, 15, 15),
    "grey": (128, 128, 128),
    "blue": (55, 95, 200),
}
# Radius as a fraction of the image side; the gap keeps "small" and "large" apart even
# after the tiny model's 64-px preprocessing.
SIZES: dict[str, tuple[float, float]] = {"small": (0.10, 0.13), "large": (0.19, 0.22)}
# Centre of each position as (x, y) fractions of the image side.
POSITIONS: dict[str, tuple[float, float]] = {
    "left": (0.25, 0.5),
    "right": (0.75, 0.5),
    "top": (0.5, 0.25),
    "bottom": (0.5, 0.75),
    "centre": (0.5, 0.5),
}
# Two-shape scenes put the shapes on opposite sides so they never overlap.
POSITION_PAIRS = (("left", "right"), ("top", "bottom"))

SPLITS = ("train", "val", "test")
IMAGE_SIZE = 128
TWO_SHAPE_SHARE = 0.15
HELD_OUT_SHARE = 0.25
SUPERSAMPLE = 2  # draw at 2x and downsample, for anti-aliased edges


@dataclass(frozen=True)
class ShapeSpec:
    shape: str
    colour: str
    size: str
    position: str


@dataclass(frozen=True)
class Scene:
    objects: tuple[ShapeSpec, ...]
    background: str

    def attributes(self) -> dict[str, str]:
        """Flat attributes: the first shape's keys, then shape2/colour2/... for a second."""
        attributes: dict[str, str] = {}
        for number, spec in enumerate(self.objects, start=1):
            suffix = "" if number == 1 else str(number)
            attributes[f"shape{suffix}"] = spec.shape
            attributes[f"colour{suffix}"] = spec.colour
            attributes[f"size{suffix}"] = spec.size
            attributes[f"position{suffix}"] = spec.position
        attributes["background"] = self.background
        return attributes

    @classmethod
    def from_attributes(cls, attributes: dict[str, str]) -> Scene:
        objects = []
        for suffix in ("", "2"):
            if f"shape{suffix}" in attributes:
                keys = ("shape", "colour", "size", "position")
                objects.append(ShapeSpec(*(attributes[f"{key}{suffix}"] for key in keys)))
        return cls(tuple(objects), attributes["background"])


@dataclass
class Sample:
    filename: str
    split: str
    image: Image.Image
    captions: list[str]
    attributes: dict[str, str] = field(default_factory=dict)


def held_out_pairs(seed: int) -> frozenset[tuple[str, str]]:
    """(colour, shape) pairs that only the test split may draw: one per shape, colours distinct.

    One pair per shape keeps every shape and every colour present in training, so the held-out
    pairs test composition rather than an unseen word.
    """
    rng = np.random.default_rng([seed, 7919])
    colours = rng.permutation(list(COLOURS))[: len(SHAPES)]
    return frozenset(zip((str(c) for c in colours), SHAPES, strict=True))


def sample_rng(seed: int, split: str, index: int) -> np.random.Generator:
    return np.random.default_rng([seed, SPLITS.index(split), index])


def sample_scene(rng: np.random.Generator, *, held_out: frozenset[tuple[str, str]], split: str) -> Scene:
    seen_pairs = [(c, s) for c in COLOURS for s in SHAPES if (c, s) not in held_out]
    wants_held_out = split == "test" and rng.random() < HELD_OUT_SHARE
    first_pairs = sorted(held_out) if wants_held_out else seen_pairs
    pairs = [first_pairs[rng.integers(len(first_pairs))]]
    if rng.random() < TWO_SHAPE_SHARE:
        pairs.append(seen_pairs[rng.integers(len(seen_pairs))])
        positions = list(POSITION_PAIRS[rng.integers(len(POSITION_PAIRS))])
        rng.shuffle(positions)
    else:
        positions = [str(rng.choice(list(POSITIONS)))]
    objects = tuple(
        ShapeSpec(shape, colour, str(rng.choice(list(SIZES))), position)
        for (colour, shape), position in zip(pairs, positions, strict=True)
    )
    # A shape the colour of its background would be invisible.
    backgrounds = [b for b in BACKGROUNDS if all(o.colour != b for o in objects)]
    return Scene(objects, backgrounds[rng.integers(len(backgrounds))])


def shape_polygon(shape: str, cx: float, cy: float, r: float, angle: float) -> list[tuple]:
    """Vertices of a shape of 'radius' r; circles are drawn as a 48-gon."""
    unit = _UNIT_SHAPES[shape]
    cos, sin = math.cos(angle), math.sin(angle)
    return [(cx + r * (x * cos - y * sin), cy + r * (x * sin + y * cos)) for x, y in unit]


def _regular(count: int, start: float = -math.pi / 2) -> list[tuple[float, float]]:
    step = 2 * math.pi / count
    return [(math.cos(start + i * step), math.sin(start + i * step)) for i in range(count)]


def _star(points: int = 5, inner: float = 0.45) -> list[tuple[float, float]]:
    outer = _regular(2 * points)
    return [(x * (inner if i % 2 else 1.0), y * (inner if i % 2 else 1.0)) for i, (x, y) in enumerate(outer)]


def _cross(arm: float = 0.33) -> list[tuple[float, float]]:
    a, e = arm, 0.95
    return [(-a, -e), (a, -e), (a, -a), (e, -a), (e, a), (a, a), (a, e), (-a, e), (-a, a), (-e, a), (-e, -a), (-a, -a)]


_UNIT_SHAPES: dict[str, list[tuple[float, float]]] = {
    "circle": _regular(48),
    # A square's corners reach r * 0.85 * sqrt(2), so its area is close to the circle's.
    "square": [(x * 0.85, y * 0.85) for x, y in [(-1, -1), (1, -1), (1, 1), (-1, 1)]],
    "triangle": [(x, y + 0.15) for x, y in _regular(3)],
    "star": _star(),
    "hexagon": _regular(6, start=0.0),
    "cross": _cross(),
}


def _jittered(rgb: tuple[int, int, int], rng: np.random.Generator, amount: int) -> tuple:
    return tuple(int(np.clip(v + rng.integers(-amount, amount + 1), 0, 255)) for v in rgb)


def render_scene(scene: Scene, rng: np.random.Generator, size: int = IMAGE_SIZE) -> Image.Image:
    """Draw the scene with colour, placement and rotation jitter, then add pixel noise."""
    canvas = size * SUPERSAMPLE
    image = Image.new("RGB", (canvas, canvas), _jittered(BACKGROUNDS[scene.background], rng, 12))
    draw = ImageDraw.Draw(image)
    for spec in scene.objects:
        fx, fy = POSITIONS[spec.position]
        low, high = SIZES[spec.size]
        cx = (fx + rng.uniform(-0.05, 0.05)) * canvas
        cy = (fy + rng.uniform(-0.05, 0.05)) * canvas
        radius = rng.uniform(low, high) * canvas
        # Small turns only: a triangle or cross turned too far reads as another shape.
        angle = math.radians(rng.uniform(-15, 15))
        polygon = shape_polygon(spec.shape, cx, cy, radius, angle)
        draw.polygon(polygon, fill=_jittered(COLOURS[spec.colour], rng, 15))
    image = image.resize((size, size), Image.Resampling.LANCZOS)
    pixels = np.asarray(image, dtype=np.float32)
    pixels += rng.normal(0.0, rng.uniform(2.0, 8.0), pixels.shape)
    return Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8))


def make_sample(seed: int, split: str, index: int, *, held_out: frozenset[tuple[str, str]] | None = None) -> Sample:
    """Regenerate one sample from its seed, split and index alone."""
    rng = sample_rng(seed, split, index)
    scene = sample_scene(rng, held_out=held_out_pairs(seed) if held_out is None else held_out, split=split)
    return Sample(
        filename=f"{split}_{index:06d}.jpg",
        split=split,
        image=render_scene(scene, rng),
        captions=scene_captions(scene, rng),
        attributes=scene.attributes(),
    )


def generate_samples(seed: int, counts: dict[str, int]) -> Iterator[Sample]:
    """Samples for each split in `counts` (e.g. {"train": 20000, "test": 1000}), in order."""
    held_out = held_out_pairs(seed)
    for split, count in counts.items():
        for index in range(count):
            yield make_sample(seed, split, index, held_out=held_out)


def benchmark_info(seed: int, counts: dict[str, int]) -> dict[str, object]:
    """Top-level keys for dataset.json that say how to regenerate it and what was held out."""
    return {
        "generator": "search.lab.datasets.shapes",
        "seed": seed,
        "counts": counts,
        "held_out_pairs": [list(pair) for pair in sorted(held_out_pairs(seed))],
    }
