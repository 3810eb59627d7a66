"""Encoder timings: the text tower's variants measured interleaved in one run, and image ingestion throughput.

Every variant runs round-robin on the same inputs, so CPU load from other processes spreads evenly over them.
"""

from __future__ import annotations

import io
import os
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image as PILImage

from search.encoder import ClipEncoder
from search.imagefiles import load_image
from search.lab.speed.stats import percentiles
from search.text_tower import encode_text_truncated, quantized_text_tower

SHORT_QUERY = "a photo of a dog"


@dataclass
class Variant:
    name: str
    run: Callable[[torch.Tensor], torch.Tensor]  # tokens -> unnormalised text features
    threads: int | None = None
    note: str = ""


@dataclass(frozen=True)
class VariantResult:
    name: str
    latency_ms: dict[str, float]
    max_abs_diff: float  # against open_clip's default path, after L2 normalisation
    min_cosine: float
    note: str = ""


def text_variants(
    encoder: ClipEncoder,
    *,
    bf16: ClipEncoder | None = None,
    shipped: ClipEncoder | None = None,
    onnx: bool = True,
    compile: bool = False,
) -> list[Variant]:
    """Variants on `encoder`'s float32 model; `bf16` adds bfloat16 weights, `shipped` the settings' own path."""
    model = encoder.model
    variants = _float32_variants(model)
    if bf16 is not None:
        variants += [
            Variant("truncation + bf16 weights", bf16.encode_text_features),
            Variant("truncation + bf16, 1 thread", bf16.encode_text_features, threads=1),
        ]
    if shipped is not None:
        name = f"shipped settings ({shipped.text_path} text tower, {shipped.text_threads or os.cpu_count()} thread(s))"
        variants.append(Variant(name, shipped.encode_text_features, threads=shipped.text_threads or None))
    if onnx and (onnx_variant := onnx_text(model)) is not None:
        variants.append(onnx_variant)
    if compile:
        variants.append(_compiled_variant(model))
    return variants


def _float32_variants(model) -> list[Variant]:
    """open_clip's own call, then each of the project's steps on top of it: inference mode, truncation, threads,
    int8."""

    def default(tokens):
        with torch.no_grad():
            return model.encode_text(tokens)

    def inference_mode(tokens):
        with torch.inference_mode():
            return model.encode_text(tokens)

    def truncated(tokens):
        with torch.inference_mode():
            return encode_text_truncated(model, tokens)

    int8 = quantized_text(model)
    return [
        Variant("open_clip default (no_grad, 77 tokens)", default),
        Variant("+ inference_mode", inference_mode),
        Variant("+ truncation at end-of-text", truncated),
        Variant("truncation, 1 thread", truncated, threads=1),
        Variant(f"truncation, {os.cpu_count()} threads", truncated, threads=os.cpu_count()),
        Variant("truncation + int8 text tower", int8),
        Variant("truncation + int8, 1 thread", int8, threads=1),
    ]


def _compiled_variant(model) -> Variant:
    compiled = torch.compile(lambda tokens: encode_text_truncated(model, tokens), dynamic=True)

    def run_compiled(tokens):
        with torch.inference_mode():
            return compiled(tokens)

    return Variant("truncation + torch.compile", run_compiled)


def quantized_text(model: torch.nn.Module) -> Callable[[torch.Tensor], torch.Tensor]:
    """The shipped CLIP_TEXT_INT8 path: int8 dynamic quantization of the text tower's Linear layers."""
    quantized = quantized_text_tower(model)

    def run(tokens):
        with torch.inference_mode():
            return encode_text_truncated(quantized, tokens)

    return run


class _OnnxTextPath(torch.nn.Module):
    """The truncated text path as one module with a dynamic sequence length, for ONNX export."""

    def __init__(self, model: torch.nn.Module) -> None:
        super().__init__()
        self.model = model

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        # Shapes read from the input (not a Python int from the data) stay dynamic in the exported graph.
        model, length = self.model, tokens.shape[1]
        x = model.token_embedding(tokens) + model.positional_embedding[:length]
        x = model.transformer(x, attn_mask=model.attn_mask[:length, :length])
        x = model.ln_final(x)
        x = x[torch.arange(x.shape[0]), tokens.argmax(dim=-1)]
        return x @ model.text_projection


SHORT_LENGTH = 16  # the exported graphs have fixed shapes: a short one, and the model's full context


def onnx_text(model: torch.nn.Module) -> Variant | None:
    """The text tower in ONNX Runtime, batch 1, at fixed lengths (padding after end-of-text changes nothing);
    None when ONNX Runtime is not installed (it is optional: pip install onnxruntime)."""
    try:
        import onnxruntime
    except ImportError:
        return None
    folder = Path(tempfile.mkdtemp())
    options = onnxruntime.SessionOptions()
    options.graph_optimization_level = onnxruntime.GraphOptimizationLevel.ORT_ENABLE_ALL
    sessions = {}
    context = int(model.positional_embedding.shape[0])
    lengths = sorted({min(SHORT_LENGTH, context), context})
    for length in lengths:
        path = folder / f"text{length}.onnx"
        example = torch.ones((1, length), dtype=torch.long)
        torch.onnx.export(_OnnxTextPath(model).eval(), (example,), str(path), input_names=["tokens"], dynamo=False)
        sessions[length] = onnxruntime.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])

    def run(tokens):
        needed = int(tokens.argmax(dim=-1).max()) + 1
        length = next(length for length in lengths if length >= needed)
        rows = [sessions[length].run(None, {"tokens": row[None, :length].numpy()})[0] for row in tokens]
        return torch.from_numpy(np.concatenate(rows))

    return Variant("truncation + ONNX Runtime (16-token graph)", run)


def time_text_variants(
    encoder: ClipEncoder, variants: list[Variant], *, text: str = SHORT_QUERY, rounds: int = 50, warmup: int = 3
) -> list[VariantResult]:
    """Round-robin timing of each variant on one query; differences are against the first variant's vector."""
    tokens = encoder.tokenize([text])
    default_threads = torch.get_num_threads()
    reference = F.normalize(variants[0].run(tokens).float(), dim=-1)
    outputs = {}
    timings: dict[str, list[float]] = {variant.name: [] for variant in variants}
    for round_number in range(warmup + rounds):
        for variant in variants:
            torch.set_num_threads(variant.threads or default_threads)
            started = time.perf_counter()
            outputs[variant.name] = variant.run(tokens)
            elapsed = (time.perf_counter() - started) * 1000
            if round_number >= warmup:
                timings[variant.name].append(elapsed)
    torch.set_num_threads(default_threads)
    results = []
    for variant in variants:
        vector = F.normalize(outputs[variant.name].float(), dim=-1)
        difference = float((vector - reference).abs().max())
        cosine = float((vector * reference).sum(dim=-1).min())
        results.append(
            VariantResult(variant.name, percentiles(timings[variant.name]), difference, cosine, variant.note)
        )
    return results


MAX_PIXELS = 100_000_000


def photo_like_jpegs(count: int, *, size: tuple[int, int] = (1024, 768), seed: int = 0) -> list[bytes]:
    """JPEGs that cost what photos cost to decode: smooth gradients plus sensor-like noise, quality 90."""
    rng = np.random.default_rng(seed)
    width, height = size
    y, x = np.mgrid[0:height, 0:width].astype(np.float32)
    images = []
    for _ in range(count):
        angle, phase = rng.uniform(0, np.pi, 3), rng.uniform(0, 2 * np.pi, 3)
        channels = [
            127 + 100 * np.sin((x * np.cos(a) + y * np.sin(a)) / rng.uniform(40, 300) + p)
            for a, p in zip(angle, phase, strict=True)
        ]
        pixels = np.stack(channels, axis=-1) + rng.normal(0, 12, (height, width, 3))
        buffer = io.BytesIO()
        PILImage.fromarray(np.clip(pixels, 0, 255).astype(np.uint8)).save(buffer, format="JPEG", quality=90)
        images.append(buffer.getvalue())
    return images


def decode_exact(data: bytes) -> PILImage.Image:
    image = PILImage.open(io.BytesIO(data))
    return image.convert("RGB")


def decode_reduced(data: bytes, side: int) -> PILImage.Image:
    """Ingestion's reduced JPEG decoding (imagefiles.load_image with reduce_to)."""
    return load_image(data, max_pixels=MAX_PIXELS, reduce_to=side).image.convert("RGB")


@dataclass(frozen=True)
class IngestResult:
    name: str
    images_per_s: float
    seconds: float
    max_abs_diff: float
    min_cosine: float


def _time_round_robin(paths: dict, jpegs: list[bytes], batch_size: int, rounds: int) -> tuple[dict, dict]:
    """Seconds each path spent over `rounds` turns (round-robin, so load from elsewhere spreads evenly), and the
    vectors of its last turn."""
    seconds = dict.fromkeys(paths, 0.0)
    vectors = {}
    for _ in range(rounds):
        for name, path in paths.items():
            started = time.perf_counter()
            vectors[name] = np.concatenate([path(jpegs[i : i + batch_size]) for i in range(0, len(jpegs), batch_size)])
            seconds[name] += time.perf_counter() - started
    return seconds, vectors


def time_image_paths(
    encoder: ClipEncoder, jpegs: list[bytes], *, bf16: ClipEncoder | None = None, rounds: int = 2
) -> list[IngestResult]:
    """Decode + preprocess + encode throughput of the exact float32 path, a preprocessing pool, reduced JPEG
    decoding (to the model's input size) and, given `bf16`, bfloat16 weights; differences are against the first."""
    side = encoder.input_side

    def exact(batch):
        return encoder.encode_preprocessed(torch.stack([encoder.preprocess(decode_exact(d)) for d in batch]))

    def reduced(batch):
        return encoder.encode_preprocessed(torch.stack([encoder.preprocess(decode_reduced(d, side)) for d in batch]))

    pool = ThreadPoolExecutor(max_workers=2)

    def pooled_on(clip: ClipEncoder):
        def pooled(batch):
            tensors = list(pool.map(lambda d: clip.preprocess(decode_exact(d)), batch))
            return clip.encode_preprocessed(torch.stack(tensors))

        return pooled

    paths = {
        "exact (open_clip preprocess)": exact,
        "exact, 2-thread decode pool": pooled_on(encoder),
        "reduced JPEG decode": reduced,
    }
    if bf16 is not None:
        paths["bf16 weights, 2-thread decode pool"] = pooled_on(bf16)
    seconds, vectors = _time_round_robin(paths, jpegs, encoder.batch_size, rounds)
    pool.shutdown()
    reference = vectors["exact (open_clip preprocess)"]
    return [
        IngestResult(
            name,
            rounds * len(jpegs) / seconds[name],
            seconds[name] / rounds,
            float(np.abs(vectors[name] - reference).max()),
            float((vectors[name] * reference).sum(axis=1).min()),
        )
        for name in paths
    ]


INGEST_MODEL_KEY = "simulated:ingest-benchmark"


def time_full_ingest(encoder: ClipEncoder, jpegs: list[bytes]) -> float:
    """images/s of services.ingest.images_ingest (read, check, thumbnail, embed, store) on files in a temp folder.

    The rows go under a simulated model key and are deleted afterwards, files and all.
    """
    import shutil

    from django.test import override_settings

    from search.lab.speed.synthetic import drop_simulated
    from search.services.ingest import find_image_files, images_ingest

    folder = Path(tempfile.mkdtemp())
    saved_key = encoder.model_key
    try:
        for number, data in enumerate(jpegs):
            (folder / "photos").mkdir(exist_ok=True)
            (folder / "photos" / f"{number}.jpg").write_bytes(data)
        encoder.model_key = INGEST_MODEL_KEY
        with override_settings(MEDIA_ROOT=folder / "media"):
            started = time.perf_counter()
            report = images_ingest(find_image_files(folder / "photos"), encoder=encoder)
            seconds = time.perf_counter() - started
        if report.added != len(jpegs):
            raise RuntimeError(f"ingest added {report.added} of {len(jpegs)} images: {report.failed[:3]}")
        return len(jpegs) / seconds
    finally:
        encoder.model_key = saved_key
        drop_simulated(INGEST_MODEL_KEY)
        shutil.rmtree(folder, ignore_errors=True)
