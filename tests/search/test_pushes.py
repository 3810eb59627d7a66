"""Pushing events to open pages: the group names, delivery through the channel layer, and failures that stay quiet."""

import pytest
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer

from search import pushes


@pytest.fixture(autouse=True)
def in_memory_layer(settings):
    settings.CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}


def _listening(group: str):
    layer = get_channel_layer()
    channel = async_to_sync(layer.new_channel)()
    async_to_sync(layer.group_add)(group, channel)
    return lambda: async_to_sync(layer.receive)(channel)


def test_a_session_event_reaches_the_session_group():
    receive = _listening(pushes.session_group(7))
    pushes.session_push(7, {"type": "caption", "caption": "a red circle"})
    assert receive() == {"type": "session.event", "event": {"type": "caption", "caption": "a red circle"}}


def test_a_job_event_reaches_the_job_group():
    receive = _listening(pushes.job_group(3))
    pushes.job_push(3, {"event": "progress", "done": 2})
    assert receive() == {"type": "job.event", "event": {"event": "progress", "done": 2}}


def test_a_push_that_fails_is_logged_not_raised(monkeypatch, caplog):
    class Broken:
        async def group_send(self, group, message):
            raise ConnectionError("redis is down")

    monkeypatch.setattr(pushes, "get_channel_layer", lambda: Broken())
    pushes.session_push(1, {"type": "rewrite"})
    assert "could not push" in caplog.text
