"""Captions for shape scenes, in the varied phrasings a person might type.

Every scene gets CAPTIONS_PER_IMAGE captions, always in this order:
  0   the canonical full description ("a large red circle on the left on a white background"),
  1-2 two other full descriptions in different phrasings,
  3   a partial description (one or two attributes left out),
  4   the short form ("a red circle").
Evaluation relies on caption 0 naming every attribute, so keep it first and complete.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from search.lab.datasets.shapes import Scene, ShapeSpec

CAPTIONS_PER_IMAGE = 5

SIZE_WORDS = {"small": ("small", "little", "tiny"), "large": ("large", "big")}
POSITION_PHRASES = {
    "left": ("on the left", "at the left"),
    "right": ("on the right", "at the right"),
    "top": ("at the top", "near the top"),
    "bottom": ("at the bottom", "near the bottom"),
    "centre": ("in the centre", "in the middle", "in the center"),
}
POSITION_SIDES = {
    "left": "left side",
    "right": "right side",
    "top": "top",
    "bottom": "bottom",
    "centre": "centre",
}
BACKGROUND_WORDS = {"grey": ("grey", "gray")}

# Each template is filled with the words of one scene; {article} agrees with the word after it.
SINGLE_FULL = (
    "{a_size} {colour} {shape} {pos} on a {bg} background",
    "{a_colour} {shape}, {size}, {side}, {bg} background",
    "{bg} background with {a_size} {colour} {shape} {pos}",
    "a picture of {a_size} {colour} {shape} {pos}, on {bg}",
    "{size} {colour} {shape} {pos}, {bg} background",
    "{a_colour} {shape} that is {size}, {pos}, on a {bg} background",
)
SINGLE_PARTIAL = (
    "{a_size} {colour} {shape} {pos}",
    "{a_colour} {shape} on a {bg} background",
    "{a_size} {colour} {shape}",
    "{a_colour} {shape} {pos}",
)
SINGLE_SHORT = "{a_colour} {shape}"

PAIR_FULL = (
    "{first} {pos1} and {second} {pos2} on a {bg} background",
    "{bg} background with {first} {pos1} and {second} {pos2}",
    "{second} {pos2} and {first} {pos1} on a {bg} background",
    "a picture of {first} {pos1} and {second} {pos2}, on {bg}",
)
PAIR_PARTIAL = (
    "{first} and {second} on a {bg} background",
    "{first} {pos1} and {second} {pos2}",
)
PAIR_SHORT = "{a_colour1} {shape1} and {a_colour2} {shape2}"


def with_article(phrase: str) -> str:
    return ("an " if phrase[:1] in "aeiou" else "a ") + phrase


def _pick(rng: np.random.Generator, options: tuple[str, ...], canonical: bool) -> str:
    return options[0] if canonical else options[rng.integers(len(options))]


def _object_words(spec: ShapeSpec, rng: np.random.Generator, canonical: bool) -> dict[str, str]:
    size = _pick(rng, SIZE_WORDS[spec.size], canonical)
    return {
        "shape": spec.shape,
        "colour": spec.colour,
        "size": size,
        "a_size": with_article(size),
        "a_colour": with_article(spec.colour),
        "pos": _pick(rng, POSITION_PHRASES[spec.position], canonical),
        "side": POSITION_SIDES[spec.position],
    }


def _scene_words(scene: Scene, rng: np.random.Generator, canonical: bool) -> dict[str, str]:
    bg = _pick(rng, BACKGROUND_WORDS.get(scene.background, (scene.background,)), canonical)
    words = {"bg": bg}
    if len(scene.objects) == 1:
        return words | _object_words(scene.objects[0], rng, canonical)
    objects = [_object_words(spec, rng, canonical) for spec in scene.objects]
    for number, object_words in enumerate(objects, start=1):
        words[f"shape{number}"] = object_words["shape"]
        words[f"a_colour{number}"] = object_words["a_colour"]
        words[f"pos{number}"] = object_words["pos"]
    first, second = (f"{o['a_size']} {o['colour']} {o['shape']}" for o in objects)
    words["first"], words["second"] = first, second
    return words


def canonical_caption(scene: Scene) -> str:
    """Caption 0 of scene_captions: every attribute, in the canonical words."""
    full = SINGLE_FULL if len(scene.objects) == 1 else PAIR_FULL
    return full[0].format(**_scene_words(scene, np.random.default_rng(0), canonical=True))


def scene_captions(scene: Scene, rng: np.random.Generator) -> list[str]:
    """CAPTIONS_PER_IMAGE captions in the fixed order described in the module docstring."""
    single = len(scene.objects) == 1
    full, partial, short = (
        (SINGLE_FULL, SINGLE_PARTIAL, SINGLE_SHORT) if single else (PAIR_FULL, PAIR_PARTIAL, PAIR_SHORT)
    )
    others = rng.choice(np.arange(1, len(full)), size=2, replace=False)
    templates = [full[0], full[others[0]], full[others[1]], partial[rng.integers(len(partial))], short]
    canonical = [True, False, False, False, True]
    return [
        template.format(**_scene_words(scene, rng, is_canonical))
        for template, is_canonical in zip(templates, canonical, strict=True)
    ]
