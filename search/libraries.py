"""Photo libraries indexed in place: folders named in LIBRARY_PATHS whose files stay where they are.

An in-place image's `file` holds `library:<absolute path>` instead of a name in media storage; OriginalsStorage,
the storage of Image.file, sends those names to the file system (read-only: deleting an image never deletes the
photo) and every other name to media storage. Everything that reads an original through the field or through
`originals()` works for both; a path outside the configured libraries is never opened.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from django.conf import settings
from django.core.files import File
from django.core.files.storage import Storage, default_storage
from django.utils.deconstruct import deconstructible

LIBRARY_PREFIX = "library:"


def library_roots() -> list[Path]:
    return [Path(root).resolve() for root in settings.LIBRARY_PATHS]


def library_name(path: Path) -> str:
    """The `file` name of an in-place image at `path`."""
    return LIBRARY_PREFIX + str(path.resolve())


def library_path(name: str) -> Path | None:
    """The file an in-place name points at, if it lies inside a configured library; None for other names."""
    if not name.startswith(LIBRARY_PREFIX):
        return None
    path = Path(name.removeprefix(LIBRARY_PREFIX))
    if not any(path.is_relative_to(root) for root in library_roots()):
        raise FileNotFoundError(f"{path} is not inside a library of LIBRARY_PATHS")
    return path


def is_in_place(name: str) -> bool:
    return name.startswith(LIBRARY_PREFIX)


@deconstructible(path="search.libraries.OriginalsStorage")
class OriginalsStorage(Storage):
    """Where originals are: in-place names on the file system (read-only), the rest in media storage."""

    def _open(self, name, mode="rb"):
        path = library_path(name)
        if path is None:
            return default_storage.open(name, mode)
        if "w" in mode or "a" in mode or "+" in mode:
            raise PermissionError("library files are never written")
        return File(path.open("rb"), name=name)

    def _save(self, name, content):
        return default_storage.save(name, content)

    def delete(self, name):
        if not is_in_place(name):  # the photo itself stays: only the row goes
            default_storage.delete(name)

    def exists(self, name):
        if not is_in_place(name):
            return default_storage.exists(name)
        try:
            return library_path(name).is_file()
        except FileNotFoundError:  # outside every library: not a file this storage serves
            return False

    def size(self, name):
        path = library_path(name)
        return path.stat().st_size if path is not None else default_storage.size(name)

    def path(self, name):
        path = library_path(name)
        return str(path) if path is not None else default_storage.path(name)

    def url(self, name):
        return default_storage.url(name)

    def get_modified_time(self, name):
        path = library_path(name)
        if path is None:
            return default_storage.get_modified_time(name)
        return dt.datetime.fromtimestamp(path.stat().st_mtime, tz=dt.UTC)

    def listdir(self, path):
        return default_storage.listdir(path)

    def get_available_name(self, name, max_length=None):
        return default_storage.get_available_name(name, max_length=max_length)

    def generate_filename(self, filename):
        return default_storage.generate_filename(filename)


originals = OriginalsStorage()
