"""Watching the libraries for changes (the optional `manage.py watch_libraries`): a change under LIBRARY_PATHS
triggers a rescan once the folders have been quiet for a moment, so a copy of 500 photos is one rescan, not 500.

The rescan is the same as the periodic one (services/libraries.py): the watcher only decides when it runs.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from watchdog.events import FileSystemEvent, FileSystemEventHandler
from watchdog.observers import Observer

from search.libraries import library_roots

logger = logging.getLogger(__name__)


class QuietPeriod(FileSystemEventHandler):
    """Calls `action` once no file event has come for `quiet_seconds` after the last one."""

    def __init__(self, action: Callable[[], object], quiet_seconds: float) -> None:
        self.action = action
        self.quiet_seconds = quiet_seconds
        self._last_event: float | None = None
        self._lock = threading.Lock()

    def on_any_event(self, event: FileSystemEvent) -> None:
        if event.event_type in ("opened", "closed_no_write"):
            return  # reads change nothing
        with self._lock:
            self._last_event = time.monotonic()

    def run_when_quiet(self) -> bool:
        """Run the action if events came and the folders have been quiet since; whether it ran."""
        with self._lock:
            due = self._last_event is not None and time.monotonic() - self._last_event >= self.quiet_seconds
            if due:
                self._last_event = None
        if due:
            self.action()
        return due


def libraries_watch(action: Callable[[], object], *, quiet_seconds: float = 5.0, stop: threading.Event) -> None:
    """Watch every library until `stop` is set, running `action` after each burst of changes."""
    handler = QuietPeriod(action, quiet_seconds)
    observer = Observer()
    for root in library_roots():
        observer.schedule(handler, str(root), recursive=True)
        logger.info("watching %s", root)
    observer.start()
    try:
        while not stop.wait(min(1.0, quiet_seconds / 2)):
            handler.run_when_quiet()
    finally:
        observer.stop()
        observer.join()
