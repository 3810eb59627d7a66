"""Pushing events to open pages: the one place that names the channel-layer groups and sends to them.

A session's pages (SessionConsumer) join `session_<id>` and relay every {"type": "session.event", "event": {...}}
to the browser as the event itself; a job's page (JobConsumer) joins `job_<id>` and relays "job.event" messages.
A push that fails is logged and dropped: background work never fails because a page was not listening, and a page
that missed an event reads the state again when it reconnects (the consumers' "sync").
"""

from __future__ import annotations

import logging

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer

logger = logging.getLogger(__name__)


def session_group(session_id: int) -> str:
    return f"session_{session_id}"


def job_group(job_id: int) -> str:
    return f"job_{job_id}"


def session_push(session_id: int, event: dict) -> None:
    """Send `event` (a dict with a string "type") to every open page of the session."""
    _send(session_group(session_id), {"type": "session.event", "event": event})


def job_push(job_id: int, event: dict) -> None:
    """Send a job's progress `event` to every open page of the job."""
    _send(job_group(job_id), {"type": "job.event", "event": event})


def _send(group: str, message: dict) -> None:
    layer = get_channel_layer()
    if layer is None:
        return
    try:
        async_to_sync(layer.group_send)(group, message)
    except Exception:  # a page that misses the push finds the state on its next sync
        logger.warning("could not push a %s to %s", message["type"], group, exc_info=True)
