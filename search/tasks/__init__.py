"""Celery tasks, one module per kind of work; Celery's autodiscovery imports this package.

Each module below registers its tasks when imported: add a line for a new module.
"""

from search.tasks import (
    captions,  # noqa: F401
    curation,  # noqa: F401
    fetch,  # noqa: F401
    ingest,  # noqa: F401
    language,  # noqa: F401
    libraries,  # noqa: F401
    purge,  # noqa: F401
)
