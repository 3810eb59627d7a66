"""Background jobs: folder ingest as batches on the `embed` queue, progress in the database, resumable; cancelling
fetch and ingest jobs keeps what they finished and writes nothing after."""

import pytest

from imagesearch.celery import app
from search.models import Image, Job, JobItem, JobItemState, JobKind, JobState
from search.services import fetch as fetch_service
from search.services.fetch import fetch_job_create, fetch_job_run
from search.services.jobs import ingest_job_batch, ingest_job_create, ingest_job_enqueue, job_cancel, job_mark_running
from search.tasks.fetch import fetch_job_task
from search.tasks.ingest import ingest_batch_task
from search.webfetch.download import DownloadLimits
from tests.factories import noise_image_bytes, png_bomb_bytes

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("background_settings", "caption_requests")]


LIMITS = DownloadLimits(concurrency=4, timeout=1.0, max_bytes=200_000, max_redirects=3, user_agent="test")


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


def _fetch_job(urls: list[str], count: int = 3) -> Job:
    job = fetch_job_create(query="red pandas", count=count, enqueue=False)
    JobItem.objects.bulk_create([JobItem(job=job, source=url) for url in urls])
    return job


@pytest.fixture
def three_photos(tmp_path):
    for n in range(3):
        (tmp_path / f"{n}.jpg").write_bytes(noise_image_bytes(400 + n))
    return tmp_path


def _pending(job: Job) -> int:
    return job.items.filter(state=JobItemState.PENDING).count()


def test_a_cancelled_fetch_job_fetches_nothing_when_its_task_runs(local_web, fake_search):
    job = _fetch_job([local_web.url(f"/img/{n}.jpg") for n in (310, 311)])
    assert job_cancel(job=job)
    hits_before = sum(local_web.hits.values())

    assert fetch_job_task.apply(args=[job.pk]).get() == JobState.CANCELLED
    job.refresh_from_db()
    assert (job.state, _pending(job), Image.objects.count()) == (JobState.CANCELLED, 2, 0)
    assert sum(local_web.hits.values()) == hits_before and fake_search.calls == []


def test_a_fetch_cancelled_midway_keeps_what_it_finished(local_web, fake_search, encoder, monkeypatch):
    # The first chunk (four items) indexes one image and skips three; the job is cancelled while the second downloads.
    urls = ["/img/301.jpg", "/fake.jpg", "/page.html", "/huge-declared.jpg", "/img/302.jpg", "/img/303.jpg"]
    job = _fetch_job([local_web.url(url) for url in urls])
    real_download, calls = fetch_service.download_images, []

    def download_then_cancel(sources, limits):
        calls.append(sources)
        results = real_download(sources, limits)
        if len(calls) == 2:
            job_cancel(job=job)
        return results

    monkeypatch.setattr(fetch_service, "download_images", download_then_cancel)
    job = fetch_job_run(job.pk, encoder=encoder, limits=LIMITS)
    assert len(calls) == 2
    assert (job.state, job.done, job.skipped, _pending(job)) == (JobState.CANCELLED, 1, 3, 2)
    assert list(Image.objects.values_list("source_url", flat=True)) == [local_web.url("/img/301.jpg")]
    assert job.message.startswith("Cancelled. So far: 1 indexed, 3 skipped")


def test_a_cancelled_ingest_batch_is_not_processed(three_photos):
    job = ingest_job_create(root=three_photos)  # queued on commit, which never comes in this test
    job_cancel(job=job)
    result = ingest_batch_task.apply(args=[job.pk, list(job.items.values_list("id", flat=True))]).get()
    assert (result["state"], result["done"]) == (JobState.CANCELLED, 0)
    assert (_pending(job), Image.objects.count()) == (3, 0)


def test_a_cancel_while_a_batch_is_embedded_writes_nothing(three_photos, encoder):
    job = ingest_job_create(root=three_photos)

    class CancellingEncoder:
        model_key, dim, input_side = encoder.model_key, encoder.dim, encoder.input_side

        def encode_images(self, images):
            vectors = encoder.encode_images(images)
            job_cancel(job=job)
            return vectors

    job = ingest_job_batch(job.pk, list(job.items.values_list("id", flat=True)), encoder=CancellingEncoder())
    assert (job.state, job.done, _pending(job), Image.objects.count()) == (JobState.CANCELLED, 0, 3, 0)


def test_a_job_cancelled_before_its_worker_starts_is_not_revived():
    job = Job.objects.create(kind=JobKind.FETCH, query="cats", params={"count": 1})
    stale = Job.objects.get(pk=job.pk)  # what the worker read, just before the cancel
    job_cancel(job=job)
    assert job_mark_running(stale).state == JobState.CANCELLED
    job.refresh_from_db()
    assert job.state == JobState.CANCELLED and job.started_at is None


@pytest.mark.parametrize("state", [JobState.SUCCEEDED, JobState.FAILED, JobState.CANCELLED])
def test_a_job_that_ended_cannot_be_cancelled(state):
    job = Job.objects.create(kind=JobKind.FETCH, state=state, query="cats", message="as it was")
    assert not job_cancel(job=job)
    job.refresh_from_db()
    assert (job.state, job.message) == (state, "as it was")
