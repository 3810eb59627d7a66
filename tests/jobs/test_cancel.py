"""Cancelling jobs: workers stop at their next check, keep what they finished, and leave the rest pending."""

import pytest

from search.models import Image, Job, JobItem, JobItemState, JobKind, JobState
from search.services import fetch as fetch_service
from search.services.fetch import fetch_job_create, fetch_job_run
from search.services.jobs import ingest_job_batch, ingest_job_create, job_cancel, job_mark_running
from search.tasks.fetch import fetch_job_task
from search.tasks.ingest import ingest_batch_task
from search.webfetch.download import DownloadLimits
from tests.factories import noise_image_bytes

pytestmark = pytest.mark.django_db

LIMITS = DownloadLimits(concurrency=4, timeout=1.0, max_bytes=200_000, max_redirects=3, user_agent="test")


def _fetch_job(urls: list[str], count: int = 3) -> Job:
    job = fetch_job_create(query="red pandas", count=count, enqueue=False)
    JobItem.objects.bulk_create([JobItem(job=job, source=url) for url in urls])
    return job


@pytest.fixture
def folder(tmp_path):
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


def test_a_cancelled_ingest_batch_is_not_processed(folder):
    job = ingest_job_create(root=folder)  # queued on commit, which never comes in this test
    job_cancel(job=job)
    result = ingest_batch_task.apply(args=[job.pk, list(job.items.values_list("id", flat=True))]).get()
    assert (result["state"], result["done"]) == (JobState.CANCELLED, 0)
    assert (_pending(job), Image.objects.count()) == (3, 0)


def test_a_cancel_while_a_batch_is_embedded_writes_nothing(folder, encoder):
    job = ingest_job_create(root=folder)

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
