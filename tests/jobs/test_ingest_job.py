"""Folder ingest as a background job: batches on the `embed` queue, progress in the database, resumable."""

import pytest

from imagesearch.celery import app
from search.models import Image, JobItemState, JobState
from search.services.jobs import ingest_job_batch, ingest_job_create, ingest_job_enqueue
from tests.factories import noise_image_bytes, png_bomb_bytes

pytestmark = pytest.mark.django_db


@pytest.fixture
def folder(tmp_path):
    for n in range(5):
        (tmp_path / "cats").mkdir(exist_ok=True)
        (tmp_path / "cats" / f"{n}.jpg").write_bytes(noise_image_bytes(100 + n))
    (tmp_path / "top.jpg").write_bytes(noise_image_bytes(200))
    (tmp_path / "copy.jpg").write_bytes(noise_image_bytes(100))
    (tmp_path / "broken.jpg").write_bytes(b"not a jpeg")
    (tmp_path / "bomb.png").write_bytes(png_bomb_bytes())
    return tmp_path


@pytest.fixture
def eager():
    before = (app.conf.task_always_eager, app.conf.task_eager_propagates)
    app.conf.task_always_eager = app.conf.task_eager_propagates = True
    yield
    app.conf.task_always_eager, app.conf.task_eager_propagates = before


@pytest.fixture
def sent(monkeypatch):
    """Tasks queued, captured instead of sent (queue, name, args)."""
    calls = []
    monkeypatch.setattr(
        "celery.app.task.Task.apply_async",
        lambda self, args=None, kwargs=None, **options: calls.append(
            (app.amqp.router.route(options, self.name, args, kwargs)["queue"].name, self.name, args)
        ),
    )
    return calls


def test_a_folder_becomes_batches_on_the_embed_queue(folder, sent, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        job = ingest_job_create(root=folder, batch_size=3)
    assert (job.total, job.items.count(), job.state) == (9, 9, JobState.PENDING)
    assert [(queue, name) for queue, name, _ in sent] == [("embed", "search.tasks.ingest.ingest_batch_task")] * 3
    assert sorted(i for _, _, (_, ids) in sent for i in ids) == sorted(job.items.values_list("id", flat=True))


def test_the_batches_index_the_folder_and_close_the_job(folder, eager, encoder, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        job = ingest_job_create(root=folder, batch_size=4)
    job.refresh_from_db()
    assert (job.state, job.total, job.done, job.skipped, job.failed) == (JobState.SUCCEEDED, 9, 6, 1, 2)
    assert Image.objects.count() == 6
    assert Image.objects.filter(category="cats").count() == 5
    reasons = dict(job.items.exclude(state=JobItemState.DONE).values_list("source", "reason"))
    assert reasons[str(folder / "copy.jpg")] in {"already indexed", "same content as another item of this job"}
    assert "decompression bomb" in reasons[str(folder / "bomb.png")]
    assert job.message.startswith("6 indexed, 1 skipped, 2 failed")


def test_a_redelivered_batch_changes_nothing(folder, encoder, sent, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        ingest_job_create(root=folder, batch_size=100)
    [(_, _, (job_id, ids))] = sent
    first = ingest_job_batch(job_id, ids, encoder=encoder)
    again = ingest_job_batch(job_id, ids, encoder=encoder)
    assert (first.done, first.skipped, first.failed) == (again.done, again.skipped, again.failed) == (6, 1, 2)
    assert Image.objects.count() == 6


def test_a_job_whose_worker_died_resumes_from_its_pending_items(
    folder, encoder, sent, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        job = ingest_job_create(root=folder, batch_size=3)
    _, _, (job_id, first_batch) = sent[0]
    ingest_job_batch(job_id, first_batch, encoder=encoder)  # then the worker died with the other two batches
    job.refresh_from_db()
    assert (job.state, job.done + job.skipped + job.failed) == (JobState.RUNNING, 3)

    sent.clear()
    assert ingest_job_enqueue(job) == 2
    for _, _, (job_id, ids) in sent:
        job = ingest_job_batch(job_id, ids, encoder=encoder)
    assert (job.state, job.done, Image.objects.count()) == (JobState.SUCCEEDED, 6, 6)


def test_the_ingest_command_queues_a_job_in_the_background(folder, sent, capsys):
    from django.core.management import call_command

    call_command("ingest", str(folder), "--background", "--batch-size", "5")
    assert "queued ingest job" in capsys.readouterr().out
    # on_commit does not fire inside the test transaction; the job and its items are there to be run
    assert Image.objects.count() == 0
