"""Queueing background work by task name: every name is a registered task, and a broker outage is a log line."""

import pytest
from django.db import transaction

from imagesearch.celery import app
from search import background

NAMES = [value for name, value in vars(background).items() if name.isupper()]


@pytest.mark.parametrize("name", NAMES)
def test_every_name_is_a_registered_task(name):
    assert name in app.tasks


def test_a_queued_task_gives_its_id(monkeypatch):
    sent = []
    task = app.tasks[background.EMBED_IMAGES]
    monkeypatch.setattr(task, "apply_async", lambda args, **options: sent.append((args, options)) or _Result("t-1"))
    assert background.queue(background.EMBED_IMAGES, [3, 4]) == "t-1"
    assert sent == [(([3, 4],), {"retry": False})]


def test_a_broker_that_is_down_costs_a_log_line(monkeypatch, caplog):
    def refuse(args, **options):
        raise ConnectionError("broker down")

    monkeypatch.setattr(app.tasks[background.REWRITE_TURN], "apply_async", refuse)
    assert background.queue(background.REWRITE_TURN, 5) is None
    assert "Could not queue rewrite_turn_task" in caplog.text


@pytest.mark.django_db
def test_queue_on_commit_waits_for_the_commit(monkeypatch, django_capture_on_commit_callbacks):
    sent = []
    monkeypatch.setattr(app.tasks[background.CAPTION_IMAGES], "apply_async", lambda args, **o: sent.append(args))
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        background.queue_on_commit(background.CAPTION_IMAGES, [1])
        assert sent == []
    assert sent == [([1],)]


class _Result:
    def __init__(self, task_id: str) -> None:
        self.id = task_id
