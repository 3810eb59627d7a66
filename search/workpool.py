"""A small thread pool for the per-image work around the model: decoding, preprocessing, thumbnails.

Between two forward passes only one core would otherwise work: Pillow and hashlib release the GIL, so a pool of
threads spreads that work over every core (docs/benchmarks.md, image ingestion). The pool is one per process,
made on first use; INGEST_THREADS=1 turns it off.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

from django.conf import settings

Item = TypeVar("Item")
Result = TypeVar("Result")

_pools: dict[int, ThreadPoolExecutor] = {}  # by size: INGEST_THREADS is read per call (tests change it)
_pools_lock = threading.Lock()


def parallel_map(
    function: Callable[[Item], Result], items: Sequence[Item], *, returning: tuple[type[Exception], ...] = ()
) -> list:
    """[function(item) for item in items], in order, spread over the pool.

    An exception of a type in `returning` takes the place of its item's result (so one bad file does not lose
    the batch); any other propagates, as in map.
    """
    if returning:
        function = _returning(function, returning)
    threads = settings.INGEST_THREADS or os.cpu_count() or 1
    if threads <= 1 or len(items) <= 1:
        return [function(item) for item in items]
    return list(_executor(threads).map(function, items))


def _returning(function: Callable, errors: tuple[type[Exception], ...]) -> Callable:
    def call(item):
        try:
            return function(item)
        except errors as error:
            return error

    return call


def _executor(threads: int) -> ThreadPoolExecutor:
    with _pools_lock:
        if threads not in _pools:
            _pools[threads] = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="imagework")
        return _pools[threads]
