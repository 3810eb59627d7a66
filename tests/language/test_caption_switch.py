"""CAPTION_MODEL="" turns captioning off (machines without captioning weights); otherwise ingest queues it."""

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from search.services.captions import captions_queue
from search.tasks.captions import caption_images_task
from tests.factories import noise_image_bytes


@pytest.fixture
def sent(monkeypatch):
    calls = []
    monkeypatch.setattr(caption_images_task, "apply_async", lambda args, **options: calls.append(args))
    return calls


@pytest.mark.django_db
def test_switched_off_nothing_is_queued_and_the_task_does_nothing(settings, sent, django_capture_on_commit_callbacks):
    settings.CAPTION_MODEL = ""
    with django_capture_on_commit_callbacks(execute=True):
        captions_queue([1, 2])
    assert sent == []
    assert caption_images_task.apply(args=([1],)).get() == {"disabled": True}


@pytest.mark.django_db
def test_switched_off_the_command_says_so(settings):
    settings.CAPTION_MODEL = ""
    with pytest.raises(CommandError, match="Captioning is off"):
        call_command("caption", stdout=StringIO())


@pytest.mark.django_db
def test_ingest_queues_captions_once_its_images_are_committed(
    settings, sent, tmp_path, captioner, django_capture_on_commit_callbacks
):
    (tmp_path / "a.jpg").write_bytes(noise_image_bytes(1))
    with django_capture_on_commit_callbacks(execute=True):
        call_command("ingest", str(tmp_path), stdout=StringIO())
    assert sent == [(None,)]  # None: every image still without a caption from the configured captioner


@pytest.mark.django_db
def test_nothing_is_queued_for_an_empty_list(settings, sent, django_capture_on_commit_callbacks, captioner):
    with django_capture_on_commit_callbacks(execute=True):
        captions_queue([])
    assert sent == []
