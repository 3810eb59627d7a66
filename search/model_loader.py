"""One loaded model per process: built on first use (or preloaded at start-up), warmed once, kept.

The CLIP encoder, the captioner and the language model each hold one ProcessModel. Building is locked, so two
threads asking at once build it once; `reset` forgets it (after its settings change, e.g. in tests).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Generic, TypeVar

logger = logging.getLogger(__name__)

Model = TypeVar("Model")


class ProcessModel(Generic[Model]):
    def __init__(
        self,
        build: Callable[[], Model],
        *,
        warm: Callable[[Model], None] | None = None,
        describe: Callable[[Model], str] = repr,
        warm_on_first_use: bool = False,
    ) -> None:
        self._build = build
        self._warm = warm
        self._describe = describe
        self._warm_on_first_use = warm_on_first_use  # for processes that never preload it (workers of one kind)
        self._model: Model | None = None
        self._lock = threading.Lock()

    def get(self) -> Model:
        """The process's model, built (and, if asked, warmed) on first use."""
        if self._model is None:
            with self._lock:
                if self._model is None:
                    model = self._build()
                    if self._warm_on_first_use and self._warm is not None:
                        self._warm(model)
                    logger.info("%s ready", self._describe(model))
                    self._model = model
        return self._model

    def preload(self) -> Model:
        """Build and warm the model now (server and worker start-up), not on the first request."""
        model = self.get()
        if self._warm is not None and not self._warm_on_first_use:
            self._warm(model)
        return model

    def reset(self) -> None:
        with self._lock:
            self._model = None

    @property
    def loaded(self) -> Model | None:
        return self._model

    @loaded.setter
    def loaded(self, model: Model | None) -> None:
        """Put a model in place (tests swap in their own)."""
        with self._lock:
            self._model = model
