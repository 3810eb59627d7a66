"""What a search asks and what it answers: the query value objects, each validated once, when it is made.

Every interface (page, API, websocket, command) translates its input into a SearchRequest or a TurnRequest; a value
the domain refuses raises InvalidQuery (search.errors) naming the field, and nothing further down checks again.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field, fields

import numpy as np
from django.conf import settings

from search.errors import InvalidQuery
from search.imagefiles import InvalidImage, LoadedImage, load_image
from search.untrusted import check_text

MAX_TOP_K = 100
MAX_TEXT_LENGTH = 1000
MAX_JUDGED_PER_TURN = 200
MAX_ID = 2**63 - 1
KEY_LENGTH = 64
SEARCH_MODES = ("vector", "hybrid")
# Formats accepted for an uploaded query image (checked by content, not by name).
UPLOAD_FORMATS = frozenset({"JPEG", "MPO", "PNG", "WEBP", "GIF", "HEIF", "AVIF"})


@dataclass(frozen=True)
class PhotoFilters:
    """Filters on what photos say about themselves (EXIF): when, by which camera, where."""

    taken_after: dt.datetime | None = None
    taken_before: dt.datetime | None = None
    camera: str = ""  # part of the make or model, any case ("canon", "iPhone 15")
    has_location: bool | None = None
    bbox: tuple[float, float, float, float] | None = None  # (south, west, north, east); west > east crosses 180°

    def __post_init__(self) -> None:
        for name in ("taken_after", "taken_before"):
            value = getattr(self, name)
            if value is not None and (not isinstance(value, dt.datetime) or value.tzinfo is None):
                raise InvalidQuery(f"{name} must be a date and time with its time zone.", field=name)
        if self.taken_after and self.taken_before and self.taken_after > self.taken_before:
            raise InvalidQuery("taken_after is later than taken_before.", field="taken_after")
        object.__setattr__(self, "camera", _check_length(check_text(self.camera, field="camera").strip(), "camera"))
        if self.bbox is not None:
            object.__setattr__(self, "bbox", _check_bbox(self.bbox))

    def __bool__(self) -> bool:
        return self != PhotoFilters()

    def as_json(self) -> dict:
        """The filters that are set, as JSON values (stored with a search session's turn)."""
        values = {
            "taken_after": self.taken_after.isoformat() if self.taken_after else None,
            "taken_before": self.taken_before.isoformat() if self.taken_before else None,
            "camera": self.camera or None,
            "has_location": self.has_location,
            "bbox": list(self.bbox) if self.bbox else None,
        }
        return {name: value for name, value in values.items() if value is not None}

    @classmethod
    def from_json(cls, values: Mapping) -> PhotoFilters:
        dates = {
            name: dt.datetime.fromisoformat(values[name]) for name in ("taken_after", "taken_before") if name in values
        }
        bbox = tuple(values["bbox"]) if values.get("bbox") else None
        return cls(**dates, camera=values.get("camera", ""), has_location=values.get("has_location"), bbox=bbox)

    def key(self) -> list:
        """The filters as JSON-able values, for cache keys."""
        dates = [value.isoformat() if value else None for value in (self.taken_after, self.taken_before)]
        return [*dates, self.camera.lower(), self.has_location, self.bbox and list(self.bbox)]


@dataclass(frozen=True)
class SearchScope:
    """Which images a search may return, and how many: the part of a request that is not the query itself."""

    top_k: int = 24
    min_score: float | None = None
    category: str = ""
    source: str = ""
    exclude_ids: Collection[int] = ()
    only_ids: Collection[int] | None = None  # search within these images only (evaluation, sub-collections)
    exact: bool = False  # compare with every vector (no index): for evaluation and tiny filtered sets
    photo: PhotoFilters = field(default_factory=PhotoFilters)
    # The next page of a vector search: only hits ranked after this (distance, id), in the same order.
    after: tuple[float, int] | None = None

    def __post_init__(self) -> None:
        _check_top_k(self.top_k)
        if self.after is not None:
            _check_after(self.after)
        if self.min_score is not None and not 0.0 <= self.min_score <= 1.0:
            raise InvalidQuery("min_score must be between 0 and 1.", field="min_score")


@dataclass(frozen=True)
class SearchRequest(SearchScope):
    """A query (a description, an example image, or both) within its scope (the fields it inherits)."""

    text: str = ""
    image: LoadedImage | None = None
    image_weight: float | None = None  # share of the image in a combined query, 0..1; None: the setting
    mode: str = "vector"  # "vector" | "hybrid" (vector + full-text, fused: search.selectors.hybrid)

    def __post_init__(self) -> None:
        super().__post_init__()
        text = check_text(self.text, field="query").strip()
        if not text and self.image is None:
            raise InvalidQuery("Describe what you are looking for, give an example image, or both.")
        _check_length(text, "query")
        _check_image_weight(self.image_weight)
        if self.mode not in SEARCH_MODES:
            raise InvalidQuery(f"mode must be one of {', '.join(SEARCH_MODES)}.", field="mode")
        if self.after is not None and self.mode != "vector":
            raise InvalidQuery(
                "Paging with a cursor is for vector mode (hybrid ranks a fixed candidate list).", field="cursor"
            )

    @property
    def scope(self) -> SearchScope:
        return SearchScope(**{f.name: getattr(self, f.name) for f in fields(SearchScope)})


@dataclass(frozen=True)
class SearchHit:
    id: int
    score: float
    thumbnail_url: str
    url: str
    caption: str
    category: str
    width: int
    height: int
    original_name: str
    distance: float | None = None  # the exact cosine distance of a vector hit: where the next page starts


@dataclass
class SearchResults:
    hits: list[SearchHit]
    model_key: str
    query_vector: np.ndarray
    timings_ms: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class CaptionHit:
    image_id: int
    caption: str
    score: float


@dataclass(frozen=True)
class TurnRequest:
    """One turn of a search session: a new query (text, with an uploaded image apart), or a refinement of the turn
    it continues (feedback text, relevance judgements, or "more like this" image). Values arrive as the interface
    decoded them (a websocket's JSON included) and are checked here, types first."""

    text: str = ""
    feedback: str = ""
    relevant_ids: tuple[int, ...] = ()
    not_relevant_ids: tuple[int, ...] = ()
    more_like_image_id: int | None = None
    top_k: int = 24
    image_weight: float | None = None
    show_judged: bool = False
    weights: Mapping[str, float] | None = None
    client_key: str = ""  # the page's idempotency key: the same key never makes a second turn
    mode: str = "vector"  # a new text query's ranking ("hybrid": fused with full-text matches)
    photo: PhotoFilters = field(default_factory=PhotoFilters)  # a new query's filters; refinements keep their parent's

    def __post_init__(self) -> None:
        for name in ("text", "feedback"):
            value = getattr(self, name)
            if not isinstance(value, str):
                raise InvalidQuery(f"{name} must be a string.", field=name)
            object.__setattr__(self, name, _check_length(check_text(value, field=name).strip(), name))
        relevant = _ids(self.relevant_ids, "relevant_ids")
        not_relevant = _ids(self.not_relevant_ids, "not_relevant_ids")
        if set(relevant) & set(not_relevant):
            raise InvalidQuery("An image cannot be both relevant and not relevant.", field="relevant_ids")
        if len(relevant) + len(not_relevant) > MAX_JUDGED_PER_TURN:
            raise InvalidQuery(f"Judge at most {MAX_JUDGED_PER_TURN} images per turn.", field="relevant_ids")
        object.__setattr__(self, "relevant_ids", relevant)
        object.__setattr__(self, "not_relevant_ids", not_relevant)
        if self.more_like_image_id is not None:
            object.__setattr__(self, "more_like_image_id", _ids([self.more_like_image_id], "more_like_image_id")[0])
        _check_top_k(self.top_k)
        _check_image_weight(self.image_weight)
        if self.mode not in SEARCH_MODES:
            raise InvalidQuery(f"mode must be one of {', '.join(SEARCH_MODES)}.", field="mode")
        if not isinstance(self.photo, PhotoFilters):
            raise InvalidQuery("photo filters must be PhotoFilters.", field="filters")
        if self.weights is not None and not isinstance(self.weights, Mapping):
            raise InvalidQuery("weights must be an object of numbers.", field="weights")
        _check_key(self.client_key)

    @property
    def starts_query(self) -> bool:
        return bool(self.text)

    @property
    def judged(self) -> bool:
        return bool(self.relevant_ids or self.not_relevant_ids)


def load_upload(data: bytes, *, field: str = "image") -> LoadedImage:
    """An uploaded image (a query or a session's example), checked by content; InvalidQuery says why it is refused."""
    limit = settings.UPLOAD_MAX_BYTES
    if len(data) > limit:
        raise InvalidQuery(f"The image is {len(data):,} bytes; the limit is {limit:,}.", field=field)
    try:
        return load_image(data, max_pixels=settings.IMAGE_MAX_PIXELS, max_bytes=limit, allowed_formats=UPLOAD_FORMATS)
    except InvalidImage as error:
        reason = str(error)
        if reason.endswith("images are not accepted"):
            reason += " (use JPEG, PNG, WebP, GIF, HEIC or AVIF)"
        raise InvalidQuery(f"The image was refused: {reason}.", field=field) from None


def _check_length(text: str, name: str) -> str:
    if len(text) > MAX_TEXT_LENGTH:
        raise InvalidQuery(f"The {name} is {len(text)} characters long; the limit is {MAX_TEXT_LENGTH}.", field=name)
    return text


def _check_bbox(bbox) -> tuple[float, float, float, float]:
    message = "bbox must be four numbers: south, west, north, east (degrees)."
    try:
        south, west, north, east = (float(value) for value in bbox)
    except (TypeError, ValueError):
        raise InvalidQuery(message, field="bbox") from None
    if not all(math.isfinite(value) for value in (south, west, north, east)):
        raise InvalidQuery(message, field="bbox")
    if not (-90 <= south <= north <= 90) or not (-180 <= west <= 180 and -180 <= east <= 180):
        message = "bbox: latitudes from -90 to 90 (south <= north), longitudes from -180 to 180."
        raise InvalidQuery(message, field="bbox")
    return south, west, north, east


def _check_after(after) -> None:
    valid = (
        isinstance(after, tuple)
        and len(after) == 2
        and isinstance(after[0], float)
        and math.isfinite(after[0])
        and isinstance(after[1], int)
        and not isinstance(after[1], bool)
        and 0 < after[1] <= MAX_ID
    )
    if not valid:
        raise InvalidQuery("The cursor is not valid: use the `next_cursor` of a previous answer.", field="cursor")


def _check_top_k(top_k) -> None:
    if isinstance(top_k, bool) or not isinstance(top_k, int) or not 1 <= top_k <= MAX_TOP_K:
        raise InvalidQuery(f"top_k must be between 1 and {MAX_TOP_K}.", field="top_k")


def _check_image_weight(weight) -> None:
    if weight is None:
        return
    if isinstance(weight, bool) or not isinstance(weight, int | float):
        raise InvalidQuery("image_weight must be a number.", field="image_weight")
    if not 0.0 <= weight <= 1.0:
        raise InvalidQuery("image_weight must be between 0 and 1.", field="image_weight")


def _check_key(key) -> None:
    if not isinstance(key, str) or len(key) > KEY_LENGTH or not all(c.isalnum() or c in "-_" for c in key):
        raise InvalidQuery(f"key must be up to {KEY_LENGTH} letters, digits, - or _.", field="key")


def _ids(values: Iterable, field: str) -> tuple[int, ...]:
    if isinstance(values, str | bytes) or not isinstance(values, Iterable):
        raise InvalidQuery(f"{field} must be a list of image ids.", field=field)
    ids = []
    for value in values:
        if isinstance(value, bool) or (isinstance(value, float) and not value.is_integer()):
            raise InvalidQuery("Image ids must be whole numbers.", field=field)
        try:
            ids.append(int(value))
        except (TypeError, ValueError):
            raise InvalidQuery("Image ids must be whole numbers.", field=field) from None
    if any(value <= 0 or value > MAX_ID for value in ids):
        raise InvalidQuery("Image ids must be positive.", field=field)
    return tuple(dict.fromkeys(ids))
