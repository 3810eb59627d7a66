"""The image captioner (BLIP through transformers): one per process, loaded on first use, warmed once.

Only processes that caption (the Celery worker, `manage.py caption`) ever load it: search requests never do.
CAPTION_MODEL is a hub name (`Salesforce/blip-image-captioning-base`) or a local folder written by save_pretrained.
"""

from __future__ import annotations

import hashlib
import logging
import threading
from collections.abc import Sequence
from pathlib import Path

from PIL import Image as PILImage

from imagesearch.optional import require
from search.model_loader import ProcessModel

logger = logging.getLogger(__name__)


class Captioner:
    """Batched image → caption; safe to call from several threads (one forward pass at a time)."""

    def __init__(self, name_or_path: str, *, device: str = "cpu", batch_size: int = 8, max_tokens: int = 30) -> None:
        require("transformers", "captions")
        import torch  # imported with the model, like transformers: most processes never caption
        from transformers import AutoProcessor, BlipForConditionalGeneration

        local = Path(name_or_path).is_dir()
        self.name_or_path = name_or_path
        self.device = torch.device(device)
        self.batch_size = batch_size
        self.max_tokens = max_tokens
        self.model_key = model_key_for(name_or_path)
        self.processor = AutoProcessor.from_pretrained(name_or_path, local_files_only=local)
        model = BlipForConditionalGeneration.from_pretrained(name_or_path, local_files_only=local)
        self.model = model.to(self.device).eval()
        self._lock = threading.Lock()

    def caption(self, images: Sequence[PILImage.Image]) -> list[str]:
        """One caption per image, in order, generated `batch_size` images per forward pass."""
        captions: list[str] = []
        for start in range(0, len(images), self.batch_size):
            batch = [image.convert("RGB") for image in images[start : start + self.batch_size]]
            captions.extend(self._caption_batch(batch))
        return captions

    def _caption_batch(self, images: list[PILImage.Image]) -> list[str]:
        import torch

        inputs = self.processor(images=images, return_tensors="pt").to(self.device)
        with self._lock, torch.inference_mode():
            output = self.model.generate(**inputs, max_new_tokens=self.max_tokens, num_beams=1, do_sample=False)
        return [clean_caption(text) for text in self.processor.batch_decode(output, skip_special_tokens=True)]

    def warm_up(self) -> None:
        self.caption([PILImage.new("RGB", (64, 64), "gray")])


def clean_caption(text: str) -> str:
    return " ".join(text.split())[:500]


def model_key_for(name_or_path: str) -> str:
    """The caption_model recorded on each caption: the hub name, or folder name + weights hash for a local model."""
    path = Path(name_or_path)
    if not path.is_dir():
        return name_or_path
    digest = hashlib.sha256()
    for weights in sorted(path.glob("*.safetensors")) + sorted(path.glob("*.bin")):
        digest.update(weights.read_bytes())
    return f"{path.name}@{digest.hexdigest()[:12]}"


def _build_from_settings() -> Captioner:
    from django.conf import settings

    return Captioner(
        settings.CAPTION_MODEL,
        device=settings.CAPTION_DEVICE,
        batch_size=settings.CAPTION_BATCH_SIZE,
        max_tokens=settings.CAPTION_MAX_TOKENS,
    )


# Only processes that caption (a Celery worker, `manage.py caption`) ever load it, on their first batch.
process_captioner: ProcessModel[Captioner] = ProcessModel(
    _build_from_settings,
    warm=Captioner.warm_up,
    describe=lambda captioner: f"Captioner {captioner.model_key} on {captioner.device}",
    warm_on_first_use=True,
)


def get_captioner() -> Captioner:
    """The process's captioner: built from settings and warmed on first use, then kept for the process's life."""
    return process_captioner.get()


def reset_captioner() -> None:
    """Forget the loaded captioner (after CAPTION_MODEL changes, e.g. in tests)."""
    process_captioner.reset()
