"""Refinement arithmetic in embedding space: Rocchio relevance feedback and feedback text with negations.

Pure functions over L2-normalised numpy vectors, with no database or encoder, so the web session, the API and the
evaluator (`manage.py evaluate`, relevance-feedback row) all move a query the same way.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, fields

import numpy as np

from search.errors import InvalidQuery
from search.selectors.vector import normalise

MAX_WEIGHT = 5.0


@dataclass(frozen=True)
class RefinementWeights:
    """q' = alpha·q + beta·mean(relevant) - gamma·mean(not relevant) + feedback·text - negative·mean(negated)."""

    alpha: float = 1.0
    beta: float = 0.75
    gamma: float = 0.25
    feedback: float = 0.7
    negative: float = 0.5

    @classmethod
    def from_mapping(cls, values: Mapping[str, object] | None) -> RefinementWeights:
        """Defaults overridden by `values`; InvalidQuery(field="weights") for unknown names or bad numbers."""
        values = dict(values or {})
        known = {item.name for item in fields(cls)}
        unknown = sorted(set(values) - known)
        if unknown:
            raise InvalidQuery(
                f"Unknown weight(s): {', '.join(unknown)}; use {', '.join(sorted(known))}.", field="weights"
            )
        parsed = {}
        for name, value in values.items():
            if value is None or value == "":
                continue
            try:
                number = float(value)
            except (TypeError, ValueError):
                raise InvalidQuery(f"Weight {name} must be a number.", field="weights") from None
            if not 0.0 <= number <= MAX_WEIGHT:
                raise InvalidQuery(f"Weight {name} must be between 0 and {MAX_WEIGHT:g}.", field="weights")
            parsed[name] = number
        return cls(**parsed)

    def as_dict(self) -> dict[str, float]:
        return asdict(self)


def rocchio(
    query: np.ndarray,
    relevant: Sequence[np.ndarray] | np.ndarray,
    not_relevant: Sequence[np.ndarray] | np.ndarray,
    weights: RefinementWeights | Mapping[str, float] | None = None,
) -> np.ndarray:
    """Rocchio relevance feedback, renormalised: q' = a·q + b·mean(relevant) - c·mean(not relevant)."""
    if not isinstance(weights, RefinementWeights):
        weights = RefinementWeights.from_mapping(weights)
    moved = weights.alpha * np.asarray(query, dtype=np.float32)
    if len(relevant):
        moved = moved + weights.beta * np.mean(np.asarray(relevant, dtype=np.float32), axis=0)
    if len(not_relevant):
        moved = moved - weights.gamma * np.mean(np.asarray(not_relevant, dtype=np.float32), axis=0)
    return normalise(moved)


def apply_feedback(
    query: np.ndarray,
    positive: np.ndarray | None,
    negated: Sequence[np.ndarray] | np.ndarray,
    weights: RefinementWeights | None = None,
) -> np.ndarray:
    """Add the feedback text's vector and subtract the mean vector of what it negated, renormalised."""
    weights = weights or RefinementWeights()
    moved = np.asarray(query, dtype=np.float32).copy()
    if positive is not None:
        moved = moved + weights.feedback * np.asarray(positive, dtype=np.float32)
    if len(negated):
        moved = moved - weights.negative * np.mean(np.asarray(negated, dtype=np.float32), axis=0)
    return normalise(moved)


@dataclass(frozen=True)
class ParsedFeedback:
    positive: str  # what to move toward, lead-in words removed ("" when the feedback only negates)
    negated: tuple[str, ...]  # what to move away from, negation words removed


_CLAUSE_SPLIT = re.compile(r"\s*(?:[,;.]|\bbut\b|\band\s+(?=(?:no|not|without|less|fewer)\b))\s*", re.IGNORECASE)
_NEGATION = re.compile(
    r"^(?:no|not|without|less|fewer|avoid|except|exclude|remove|minus|don'?t\s+show|do\s+not\s+show|nothing\s+with)\s+",
    re.IGNORECASE,
)
_LEAD_IN = re.compile(
    r"^(?:please\s+)?(?:focus\s+on|more\s+like|more\s+of|show\s+me|make\s+it|i\s+want|with|only|more)\s+",
    re.IGNORECASE,
)


def parse_feedback(text: str) -> ParsedFeedback:
    """Split feedback into what to add and what to subtract: "the sky, no people" → ("the sky", ("people",))."""
    positive, negated = [], []
    for clause in _CLAUSE_SPLIT.split(text.strip()):
        clause = clause.strip()
        if not clause:
            continue
        stripped = _NEGATION.sub("", clause, count=1)
        if stripped != clause:
            negated.append(_strip_article(stripped))
        else:
            positive.append(_LEAD_IN.sub("", clause, count=1).strip())
    return ParsedFeedback(positive=", ".join(part for part in positive if part), negated=tuple(n for n in negated if n))


def _strip_article(phrase: str) -> str:
    return re.sub(r"^(?:any|the|a|an)\s+", "", phrase.strip(), flags=re.IGNORECASE)
