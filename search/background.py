"""Queueing background work: the one way the search app hands work to Celery workers.

Services name tasks rather than import them: a task module imports the service it runs, so an import the other way
would be a circle. search.apps imports search.tasks in every process, so every name below is a registered task.
A broker that is down costs a log line, never the request or the work that asked; what was not queued can be queued
again (search.services.jobs.job_resume, `manage.py caption --missing`).
"""

from __future__ import annotations

import logging

from django.db import transaction

logger = logging.getLogger(__name__)

CAPTION_IMAGES = "search.tasks.captions.caption_images_task"
CAPTION_QUERY_IMAGE = "search.tasks.captions.caption_query_image_task"
REWRITE_TURN = "search.tasks.language.rewrite_turn_task"
EMBED_IMAGES = "search.tasks.curation.images_embed_task"
INGEST_BATCH = "search.tasks.ingest.ingest_batch_task"
FETCH_ROUND = "search.tasks.fetch.fetch_job_task"


def queue(name: str, *args, retry: bool = False) -> str | None:
    """Send task `name` now; its task id ("" when the broker gave none), or None (and a log line) if the broker
    cannot take it. `retry` keeps trying to publish for a while, for work nothing else would queue again."""
    from imagesearch.celery import app

    try:
        result = app.tasks[name].apply_async(args, retry=retry)
    except Exception:  # kombu raises several kinds; none of them may reach the caller
        logger.exception("Could not queue %s%r", name.rsplit(".", 1)[-1], args)
        return None
    return getattr(result, "id", "") or ""


def queue_on_commit(name: str, *args, retry: bool = False) -> None:
    """Send task `name` once the current transaction commits (at once outside one): a worker must find the rows."""
    transaction.on_commit(lambda: queue(name, *args, retry=retry))
