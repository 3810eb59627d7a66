"""Rolling latency percentiles per API endpoint, over the last API_LATENCY_WINDOW requests of this process."""

from __future__ import annotations

import threading
from collections import deque

import numpy as np
from django.conf import settings

PARTS = ("encode", "search", "total")
PERCENTILES = (50, 95, 99)


class LatencyRecorder:
    def __init__(self) -> None:
        self._samples: dict[str, dict[str, deque[float]]] = {}
        self._lock = threading.Lock()

    def record(self, endpoint: str, timings_ms: dict[str, float]) -> None:
        """Add one request's timings (any of encode, search, total, in milliseconds)."""
        with self._lock:
            parts = self._samples.setdefault(endpoint, {})
            for part in PARTS:
                if part in timings_ms:
                    parts.setdefault(part, deque(maxlen=settings.API_LATENCY_WINDOW)).append(float(timings_ms[part]))

    def summary(self) -> dict[str, dict]:
        """{endpoint: {"count": n, "encode": {"p50": ms, "p95": ms, "p99": ms}, ...}} over the window."""
        with self._lock:
            snapshot = {
                endpoint: {part: list(values) for part, values in parts.items()}
                for endpoint, parts in self._samples.items()
            }
        return {endpoint: _summarise(parts) for endpoint, parts in sorted(snapshot.items())}

    def clear(self) -> None:
        with self._lock:
            self._samples.clear()


def _summarise(parts: dict[str, list[float]]) -> dict:
    summary: dict = {"count": max((len(values) for values in parts.values()), default=0)}
    for part, values in parts.items():
        if values:
            points = np.percentile(np.asarray(values), PERCENTILES)
            summary[part] = {f"p{p}": round(float(v), 3) for p, v in zip(PERCENTILES, points, strict=True)}
    return summary


recorder = LatencyRecorder()
