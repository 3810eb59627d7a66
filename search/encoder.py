"""The CLIP encoder: one per process, loaded once, warmed up, shared by every request.

open_clip supplies the model, its image preprocessing and its tokenizer, so vectors are exactly what open_clip
would produce. The project's own model configs (search/clip_configs/) are registered with open_clip first, so a
model the project trained loads through the same code path as ViT-B-32.

torch and open_clip are imported when an encoder is built, not with this module: most of the app imports it (for
get_encoder), and importing them costs every Django process ~4 s, management commands that never encode included.
Servers and workers load the encoder at start-up anyway (preload_encoder).
"""

from __future__ import annotations

import functools
import hashlib
import logging
import threading
from collections import OrderedDict
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from PIL import Image as PILImage

from search.model_loader import ProcessModel
from search.workpool import parallel_map

if TYPE_CHECKING:
    import open_clip
    import torch

logger = logging.getLogger(__name__)

PROJECT_CONFIG_DIR = Path(__file__).resolve().parent / "clip_configs"
RANDOM_WEIGHTS = {"", "none", "random"}
PRECISIONS = ("float32", "bfloat16")


@functools.cache
def open_clip_with_project_configs():
    """open_clip, with the project's model configs registered (once per process: open_clip appends the folder and
    rescans every config on each registration). The product's encoder and the lab's training both build from it."""
    import open_clip

    open_clip.add_model_config(PROJECT_CONFIG_DIR)
    return open_clip


class EncoderUnavailable(RuntimeError):
    """The configured CLIP weights cannot be loaded (most often: a hub tag on a machine without the hub)."""

    def __init__(self, model_name: str, pretrained: str | None, error: Exception) -> None:
        super().__init__(
            f"CLIP model {model_name!r} with weights {pretrained!r} could not be loaded: {error}\n"
            "Without the model hub, point CLIP_PRETRAINED at a local checkpoint file, or use the project's own "
            "model: CLIP_MODEL=imagesearch-tiny CLIP_PRETRAINED=tests/fixtures/clip/imagesearch-tiny.pt (README)."
        )


class ClipEncoder:
    """Text and image encoder with L2-normalised float32 outputs; safe to call from several threads."""

    def __init__(
        self,
        model_name: str,
        pretrained: str,
        *,
        device: str = "cpu",
        batch_size: int = 32,
        text_cache_size: int = 0,
        text_threads: int = 0,
        text_int8: bool = False,
        precision: str = "float32",
    ) -> None:
        import torch

        self.model_name = model_name
        self.pretrained = pretrained
        self.device = torch.device(device)
        self.batch_size = batch_size
        self.model_key = model_key_for(model_name, pretrained)
        model, self.preprocess = _load_open_clip(model_name, pretrained, device)
        self.tokenizer = open_clip_with_project_configs().get_tokenizer(model_name)
        # One forward pass at a time: torch already uses every core inside one, and a lock keeps requests from
        # oversubscribing the CPU or interleaving on a GPU stream.
        self._lock = threading.Lock()
        self.text_cache = TextVectorCache(text_cache_size)
        # A one-query forward pass is too small to share: on a busy 2-core machine two torch threads waiting on
        # each other made it 10x slower than one (docs/benchmarks.md). 0 keeps the process's thread count.
        self.text_threads = text_threads
        int8_tower = _query_text_tower(model, model_name) if text_int8 else None
        # bfloat16 weights run the towers on the CPU's bf16 matrix units (AMX, AVX512-BF16): ViT-B-32 embeds
        # images 3x faster, vectors within cosine 0.9999 of float32 (docs/benchmarks.md). The difference is far
        # below what separates search results, so vectors of either precision share one model key and collection.
        self.precision = resolve_precision(precision, device)
        self.dtype = getattr(torch, self.precision)
        self.model = model.to(self.dtype)
        self._text_model = int8_tower or self.model
        self.text_path = "int8" if int8_tower is not None else self.precision
        # Cached query vectors of each text path get their own keys; stored vectors share the model key.
        self.text_key = self.model_key if self.text_path == "float32" else f"{self.model_key}+text-{self.text_path}"

    @cached_property
    def dim(self) -> int:
        return int(self.encode_text(["a photo"]).shape[1])

    @property
    def input_side(self) -> int:
        """The short side open_clip's preprocessing resizes images to (the model's input size)."""
        size = self.preprocess.transforms[0].size
        return size if isinstance(size, int) else min(size)

    def warm_up(self) -> None:
        """One forward pass of each tower, so the first real request does not pay for lazy initialisation."""
        self.encode_images([PILImage.new("RGB", (self.input_side, self.input_side), "gray")])
        self.encode_text(["a photo"])

    def tokenize(self, texts: Sequence[str]) -> torch.Tensor:
        return self.tokenizer(list(texts))

    def encode_text(self, texts: Sequence[str]) -> np.ndarray:
        """One row per text; recent texts come from the in-process cache (text_cache_size) without the model."""
        if not self.text_cache.size:
            return self._encode_text_uncached(texts)
        found = {text: self.text_cache.get(text) for text in texts}
        missing = [text for text, vector in found.items() if vector is None]
        if missing:
            for text, vector in zip(missing, self._encode_text_uncached(missing), strict=True):
                found[text] = vector
                self.text_cache.put(text, vector)
        return np.stack([found[text] for text in texts])

    def encode_captions(self, texts: Sequence[str]) -> np.ndarray:
        """Texts stored with the collection (captions), through the text tower at the model's own precision.

        A caption is embedded once and compared with every later query, so it takes the accurate path, not the
        int8 one of queries: on the benchmark, int8 caption vectors cost image -> text R@1 2 pt, int8 query
        vectors nothing measurable (docs/benchmarks.md). Not cached.
        """
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        with self._lock:
            features = self.encode_text_features(self.tokenize(texts), stored=True)
        return _normalised_numpy(features)

    def _encode_text_uncached(self, texts: Sequence[str]) -> np.ndarray:
        with self._lock, _torch_threads(self.text_threads):
            features = self.encode_text_features(self.tokenize(texts))
        return _normalised_numpy(features)

    def encode_text_features(self, tokens: torch.Tensor, *, stored: bool = False) -> torch.Tensor:
        """Unnormalised text features by encode_text's path (encode_captions' with `stored`), without the cache,
        lock or thread setting."""
        import torch

        from search.text_tower import encode_text_truncated, supports_truncated_text

        with torch.inference_mode():
            tokens = tokens.to(self.device)
            if not supports_truncated_text(self.model):
                return self.model.encode_text(tokens)
            return encode_text_truncated(self.model if stored else self._text_model, tokens)

    def encode_images(self, images: Sequence[PILImage.Image]) -> np.ndarray:
        """Encode images in batches of `batch_size`; returns one row per image."""
        if not images:
            return np.zeros((0, self.dim), dtype=np.float32)
        import torch

        rows = []
        for start in range(0, len(images), self.batch_size):
            batch = torch.stack(parallel_map(self.preprocess, images[start : start + self.batch_size]))
            rows.append(self.encode_preprocessed(batch))
        return np.concatenate(rows)

    def encode_preprocessed(self, batch: torch.Tensor) -> np.ndarray:
        import torch

        with self._lock, torch.inference_mode():
            features = self.model.encode_image(batch.to(self.device, self.dtype))
        return _normalised_numpy(features)


def _load_open_clip(model_name: str, pretrained: str, device: str):
    """The open_clip model (in eval mode) and its image preprocessing; EncoderUnavailable if the weights are not."""
    import torch

    if pretrained.strip().lower() in RANDOM_WEIGHTS:
        # Random weights are for tests and timings only; a fixed seed keeps their vectors reproducible.
        torch.manual_seed(0)
        pretrained = None
    try:
        create = open_clip_with_project_configs().create_model_and_transforms
        model, _, preprocess = create(model_name, pretrained=pretrained, device=device)
    except RuntimeError as error:
        raise EncoderUnavailable(model_name, pretrained, error) from error
    return model.eval(), preprocess


def _query_text_tower(model: open_clip.CLIP, model_name: str) -> torch.nn.Module | None:
    """Query texts go through an int8 copy of the text tower, quantized from the float32 weights: one query reads
    every weight once, so a quarter of the bytes is about 3x faster on CPU; vectors within cosine 0.998 of float32
    (docs/benchmarks.md). Only queries take it: image and caption vectors, which are stored, keep the model's own
    precision (encode_captions)."""
    from search.text_tower import quantized_text_tower, supports_truncated_text

    if supports_truncated_text(model):
        return quantized_text_tower(model)
    logger.warning("CLIP_TEXT_INT8 ignored: %s has no text tower it can quantize", model_name)
    return None


class TextVectorCache:
    """A thread-safe LRU of recent query texts' vectors, in front of the shared (Redis) cache; size 0 is off."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.hits = 0
        self.misses = 0
        self._vectors: OrderedDict[str, np.ndarray] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, text: str) -> np.ndarray | None:
        with self._lock:
            vector = self._vectors.get(text)
            if vector is None:
                self.misses += 1
                return None
            self._vectors.move_to_end(text)
            self.hits += 1
            return vector

    def put(self, text: str, vector: np.ndarray) -> None:
        if not self.size:
            return
        vector = vector.copy()
        vector.flags.writeable = False  # shared between callers: nobody may change a cached vector
        with self._lock:
            self._vectors[text] = vector
            self._vectors.move_to_end(text)
            while len(self._vectors) > self.size:
                self._vectors.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._vectors.clear()
            self.hits = self.misses = 0

    def __len__(self) -> int:
        return len(self._vectors)


@contextmanager
def _torch_threads(count: int) -> Iterator[None]:
    """Run with `count` torch intra-op threads (0: unchanged); callers hold the encoder lock."""
    import torch

    if not count or count == torch.get_num_threads():
        yield
        return
    previous = torch.get_num_threads()
    torch.set_num_threads(count)
    try:
        yield
    finally:
        torch.set_num_threads(previous)


def _normalised_numpy(features: torch.Tensor) -> np.ndarray:
    import torch.nn.functional as F

    return F.normalize(features.float(), dim=-1).cpu().numpy().astype(np.float32, copy=False)


def resolve_precision(precision: str, device: str | torch.device) -> str:
    """CLIP_PRECISION to a dtype name: "auto" is bfloat16 on a CPU with bf16 matrix instructions, else float32.

    Without those instructions torch emulates bf16 and it is slower than float32; GPUs are left at float32 unless
    asked, since the choice there depends on the card.
    """
    import torch

    if precision in PRECISIONS:
        return precision
    if precision != "auto":
        raise ValueError(f"CLIP precision must be auto, float32 or bfloat16, got {precision!r}")
    if torch.device(device).type == "cpu" and cpu_has_bf16_matrix_units():
        return "bfloat16"
    return "float32"


def cpu_has_bf16_matrix_units() -> bool:
    """Whether this CPU multiplies bf16 matrices in hardware (Intel AMX, or AVX512-BF16 on Intel and AMD)."""
    import torch

    probes = ("_is_amx_tile_supported", "_is_avx512_bf16_supported")  # private, so absent ones count as no
    return any(getattr(torch.cpu, probe, lambda: False)() for probe in probes)


def model_key_for(model_name: str, pretrained: str) -> str:
    """The key every vector records: which model made it (`name:tag`, or `name:file@sha256-prefix` for a file)."""
    return f"{model_name}:{pretrained_tag(pretrained)}"


def pretrained_tag(pretrained: str) -> str:
    """A stable name for the weights: the open_clip tag, or file name + content hash for a local checkpoint."""
    if pretrained.strip().lower() in RANDOM_WEIGHTS:
        return "random-seed0"
    path = Path(pretrained)
    if path.is_file():
        digest = hashlib.sha256(path.read_bytes()).hexdigest()[:12]
        return f"{path.name}@{digest}"
    return pretrained


def _build_from_settings() -> ClipEncoder:
    from django.conf import settings

    if settings.CLIP_THREADS:
        import torch

        torch.set_num_threads(settings.CLIP_THREADS)
    return ClipEncoder(
        settings.CLIP_MODEL,
        settings.CLIP_PRETRAINED,
        device=settings.CLIP_DEVICE,
        batch_size=settings.CLIP_BATCH_SIZE,
        text_cache_size=settings.CLIP_TEXT_CACHE_SIZE,
        text_threads=settings.CLIP_TEXT_THREADS,
        text_int8=settings.CLIP_TEXT_INT8,
        precision=settings.CLIP_PRECISION,
    )


def _describe(encoder: ClipEncoder) -> str:
    return f"CLIP encoder {encoder.model_key} on {encoder.device} (dim {encoder.dim}, {encoder.precision})"


process_encoder: ProcessModel[ClipEncoder] = ProcessModel(
    _build_from_settings, warm=ClipEncoder.warm_up, describe=_describe
)


def get_encoder() -> ClipEncoder:
    """The process's encoder, built from settings on first use and kept for the life of the process."""
    return process_encoder.get()


def preload_encoder() -> ClipEncoder:
    """Load and warm the encoder now (server and worker start-up), not on the first request."""
    return process_encoder.preload()
