"""The purge: temp files of idle sessions and expired login sessions go; recent ones and indexed images stay."""

import os
from datetime import timedelta

import pytest
from django.contrib.sessions.backends.db import SessionStore
from django.contrib.sessions.models import Session
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.management import call_command
from django.utils import timezone

from search.imagefiles import load_image
from search.models import Image, Job, JobItem, JobKind, JobState, QueryImage, SearchSession
from search.services.images import image_create
from search.services.purge import temporary_files_purge
from search.tasks.purge import purge_task
from tests.factories import noise_image_bytes, unit_vector

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("background_settings", "caption_requests")]


def _session(user, *, idle_minutes: int) -> SearchSession:
    session = SearchSession.objects.create(user=user)
    SearchSession.objects.filter(pk=session.pk).update(updated_at=timezone.now() - timedelta(minutes=idle_minutes))
    return session


def _query_image(session, seed) -> QueryImage:
    name = default_storage.save(f"queries/{session.pk}/{seed}.jpg", ContentFile(noise_image_bytes(seed)))
    return QueryImage.objects.create(
        session=session, file=name, sha256=str(seed), format="JPEG", width=96, height=72, byte_size=1
    )


def _age(name, minutes):
    old = (timezone.now() - timedelta(minutes=minutes)).timestamp()
    os.utime(default_storage.path(name), (old, old))


@pytest.fixture
def world(django_user_model, encoder):
    user = django_user_model.objects.create_user("ann", password="pw-123456789")
    idle, recent = _session(user, idle_minutes=45), _session(user, idle_minutes=5)
    indexed = image_create(
        loaded=load_image(noise_image_bytes(1), max_pixels=10**8),
        vector=unit_vector(encoder.dim, 1),
        model_key=encoder.model_key,
        original_name="kept.jpg",
    )
    old_query, new_query = _query_image(idle, 2), _query_image(recent, 3)
    stray = default_storage.save(f"queries/{idle.pk}/stray.jpg", ContentFile(b"left by a crash"))
    _age(stray, 60)
    fresh_stray = default_storage.save(f"queries/{idle.pk}/fresh.jpg", ContentFile(b"just written"))
    gone = default_storage.save("queries/999999/orphan.jpg", ContentFile(b"session deleted"))
    _age(gone, 60)
    SessionStore().create()  # a live login session
    expired = SessionStore()
    expired.set_expiry(-60)
    expired.create()
    return locals()


def test_idle_sessions_lose_their_temp_files_and_nothing_else(world, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        report = temporary_files_purge()
    assert report.query_images == 1
    assert sorted(report.files) == sorted([world["old_query"].file.name, world["stray"], world["gone"]])
    assert report.expired_sessions == 1
    assert list(QueryImage.objects.all()) == [world["new_query"]]
    assert not default_storage.exists(world["old_query"].file.name)
    assert not default_storage.exists(world["stray"])
    assert not default_storage.exists(world["gone"])
    assert default_storage.exists(world["new_query"].file.name)
    assert default_storage.exists(world["fresh_stray"])  # younger than the cut-off: maybe being written now
    assert SearchSession.objects.count() == 2  # the sessions themselves (their history) stay
    assert Session.objects.count() == 1


def test_indexed_images_are_never_touched(world, django_capture_on_commit_callbacks):
    indexed = world["indexed"]
    # A query row pointing at an indexed image's file (however it came to be) must not take the file with it.
    QueryImage.objects.filter(pk=world["old_query"].pk).update(file=indexed.file.name)
    with django_capture_on_commit_callbacks(execute=True):
        temporary_files_purge(now=timezone.now() + timedelta(days=365))
    assert Image.objects.get() == indexed
    assert default_storage.exists(indexed.file.name)
    assert default_storage.exists(indexed.thumbnail.name)


def test_the_ttl_is_a_setting(world, settings, django_capture_on_commit_callbacks):
    settings.SESSION_TEMP_TTL_MINUTES = 60
    with django_capture_on_commit_callbacks(execute=True):
        report = temporary_files_purge()
    assert report.query_images == 0
    assert QueryImage.objects.count() == 2


def test_a_dry_run_removes_nothing(world, capsys):
    call_command("purge", "--dry-run")
    out = capsys.readouterr().out
    assert world["old_query"].file.name in out
    assert "would remove 1 query images of idle search sessions, 3 files, 1 expired login sessions" in out
    assert QueryImage.objects.count() == 2
    assert default_storage.exists(world["old_query"].file.name)
    assert Session.objects.count() == 2


def test_the_periodic_task_purges_and_logs(world, caplog, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True), caplog.at_level("INFO", logger="search.services.purge"):
        summary = purge_task.apply().get()
    assert summary.startswith("removed 1 query images")
    assert f"purge removed {world['old_query'].file.name}" in caplog.text
    assert not default_storage.exists(world["old_query"].file.name)


def test_the_purge_is_on_the_beat_schedule(settings):
    entry = settings.CELERY_BEAT_SCHEDULE["purge-temporary-files"]
    assert entry["task"] == purge_task.name
    assert entry["schedule"] <= 10 * 60


def test_staged_uploads_go_once_no_pending_item_needs_them(db, django_user_model, media_root):
    def staged(job_id, n, hours_old=2):
        name = default_storage.save(f"uploads/{job_id}/{n:05d}", ContentFile(b"x"))
        old = (timezone.now() - timedelta(hours=hours_old)).timestamp()
        os.utime(media_root / name, (old, old))
        return name

    running = Job.objects.create(kind=JobKind.UPLOAD, state=JobState.RUNNING, total=2)
    cancelled = Job.objects.create(kind=JobKind.UPLOAD, state=JobState.CANCELLED, total=1)
    waiting = staged(running.pk, 0)
    done = staged(running.pk, 1)
    JobItem.objects.create(job=running, source=waiting)
    JobItem.objects.create(job=running, source=done, state="done")
    abandoned = staged(cancelled.pk, 0)
    JobItem.objects.create(job=cancelled, source=abandoned)
    orphan = staged(999_999, 0)
    fresh_orphan = staged(999_998, 0, hours_old=0)

    report = temporary_files_purge()
    assert set(report.files) >= {done, abandoned, orphan}
    assert default_storage.exists(waiting) and default_storage.exists(fresh_orphan)
    assert not any(default_storage.exists(name) for name in (done, abandoned, orphan))
