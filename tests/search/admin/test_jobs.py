"""The Jobs admin: starting a web fetch, cancelling jobs (action and button), and retry leaving cancelled jobs alone."""

from types import SimpleNamespace

import pytest
from django.contrib.auth.models import Permission, User
from django.urls import reverse

from search.models import Job, JobItem, JobItemState, JobKind, JobState

pytestmark = pytest.mark.django_db
FETCH_URL = reverse("admin:search_job_fetch")


@pytest.fixture
def fetcher_client(client, curator):
    curator.user_permissions.add(Permission.objects.get(content_type__app_label="search", codename="add_image"))
    client.force_login(User.objects.get(pk=curator.pk))  # a fresh object: permissions are cached per instance
    return client


@pytest.fixture
def queued(monkeypatch) -> list[int]:
    """The ids of the fetch jobs queued for a worker, recorded instead of sent."""
    from search.tasks.fetch import fetch_job_task

    calls: list[int] = []

    def apply_async(args, **options):
        calls.append(args[0])
        return SimpleNamespace(id=f"task-{args[0]}")

    monkeypatch.setattr(fetch_job_task, "apply_async", apply_async)
    return calls


def _job(state=JobState.RUNNING, **fields) -> Job:
    job = Job.objects.create(kind=JobKind.FETCH, state=state, query="cats", params={"count": 5}, **fields)
    JobItem.objects.create(job=job, source="https://example.com/1.jpg", state=JobItemState.DONE)
    JobItem.objects.create(job=job, source="https://example.com/2.jpg")
    return job


# --- starting a fetch ---


def test_curators_who_may_add_images_see_the_fetch_button(fetcher_client):
    listing = fetcher_client.get(reverse("admin:search_job_changelist"))
    assert FETCH_URL.encode() in listing.content


def test_a_fetch_is_recorded_queued_and_shown_on_its_job_page(
    fetcher_client, curator, queued, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = fetcher_client.post(FETCH_URL, {"query": "  red   pandas ", "count": "7", "category": " animals "})
    job = Job.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("admin:search_job_change", args=[job.pk])
    assert (job.kind, job.state, job.query, job.user) == (JobKind.FETCH, JobState.PENDING, "red pandas", curator)
    assert (job.params["count"], job.params["category"]) == (7, "animals")
    assert queued == [job.pk]
    job.refresh_from_db()
    assert job.task_id == f"task-{job.pk}"

    page = fetcher_client.get(response["Location"])
    assert page.status_code == 200
    assert b"red pandas" in page.content and b"Pending" in page.content and b"Cancel this job" in page.content


def test_without_the_add_image_permission_the_fetch_page_is_forbidden(curator_client, queued):
    assert curator_client.get(FETCH_URL).status_code == 403
    assert curator_client.post(FETCH_URL, {"query": "red pandas", "count": "5"}).status_code == 403
    assert FETCH_URL.encode() not in curator_client.get(reverse("admin:search_job_changelist")).content
    assert not Job.objects.exists() and queued == []


@pytest.mark.parametrize(
    ("data", "error"),
    [
        ({"query": "red pandas", "count": "0"}, "greater than or equal to 1"),
        ({"query": "red pandas", "count": "100000"}, "less than or equal to"),
        ({"query": "red pandas", "count": "many"}, "Enter a whole number"),
        ({"query": "   ", "count": "5"}, "This field is required"),
        ({"query": "x" * 201, "count": "5"}, "at most 200 characters"),
    ],
)
def test_bad_input_re_renders_the_form_with_its_error(fetcher_client, queued, data, error):
    response = fetcher_client.post(FETCH_URL, data)
    assert response.status_code == 200
    assert error in response.content.decode()
    assert not Job.objects.exists() and queued == []


# --- cancelling ---


def test_the_cancel_action_stops_pending_and_running_jobs_only(curator_client, curator):
    running, pending, finished = _job(), _job(state=JobState.PENDING), _job(state=JobState.SUCCEEDED)
    response = curator_client.post(
        reverse("admin:search_job_changelist"),
        {"action": "cancel", "_selected_action": [running.pk, pending.pk, finished.pk]},
        follow=True,
    )
    states = {job.pk: job.state for job in Job.objects.all()}
    assert states == {running.pk: JobState.CANCELLED, pending.pk: JobState.CANCELLED, finished.pk: JobState.SUCCEEDED}
    assert b"Cancelled 2 jobs (1 had already ended)" in response.content
    running.refresh_from_db()
    assert running.message.startswith("Cancelled by curator.") and running.finished_at is not None
    assert running.items.filter(state=JobItemState.PENDING).count() == 1  # left as it was, not processed


def test_the_change_page_cancels_with_a_button(curator_client):
    job = _job()
    page = curator_client.get(reverse("admin:search_job_change", args=[job.pk]))
    assert b"Cancel this job" in page.content
    response = curator_client.post(reverse("admin:search_job_cancel", args=[job.pk]))
    assert response["Location"] == reverse("admin:search_job_change", args=[job.pk])
    job.refresh_from_db()
    assert job.state == JobState.CANCELLED
    assert b"Cancel this job" not in curator_client.get(response["Location"]).content


def test_viewers_cannot_cancel(viewer_client):
    job = _job()
    assert b"Cancel this job" not in viewer_client.get(reverse("admin:search_job_change", args=[job.pk])).content
    assert viewer_client.post(reverse("admin:search_job_cancel", args=[job.pk])).status_code == 403
    viewer_client.post(reverse("admin:search_job_changelist"), {"action": "cancel", "_selected_action": [job.pk]})
    job.refresh_from_db()
    assert job.state == JobState.RUNNING


def test_retry_failed_leaves_a_cancelled_job_cancelled(curator_client, queued, django_capture_on_commit_callbacks):
    job = _job(state=JobState.CANCELLED)
    JobItem.objects.create(job=job, source="https://example.com/3.jpg", state=JobItemState.FAILED, reason="HTTP 500")
    with django_capture_on_commit_callbacks(execute=True):
        response = curator_client.post(
            reverse("admin:search_job_changelist"),
            {"action": "retry_failed", "_selected_action": [job.pk]},
            follow=True,
        )
    job.refresh_from_db()
    assert job.state == JobState.CANCELLED and queued == []
    assert job.items.filter(state=JobItemState.FAILED).count() == 1
    assert b"Left 1 cancelled jobs as they are" in response.content


@pytest.fixture
def job(db):
    job = Job.objects.create(kind=JobKind.FETCH, state=JobState.SUCCEEDED, query="cats", total=3, done=1, failed=2)
    JobItem.objects.create(job=job, source="https://example.com/1.jpg", state=JobItemState.DONE)
    JobItem.objects.create(job=job, source="https://example.com/2.jpg", state=JobItemState.FAILED, reason="HTTP 500")
    JobItem.objects.create(job=job, source="https://example.com/3.jpg", state=JobItemState.FAILED, reason="timeout")
    return job


def test_job_list_and_page_show_progress_and_failures(curator_client, job):
    listing = curator_client.get(reverse("admin:search_job_changelist"))
    assert listing.status_code == 200 and b"3 / 3" in listing.content
    page = curator_client.get(reverse("admin:search_job_change", args=[job.id]))
    assert page.status_code == 200 and b"HTTP 500" in page.content and b"timeout" in page.content


def test_jobs_are_read_only(curator_client, job):
    curator_client.post(reverse("admin:search_job_change", args=[job.id]), {"query": "dogs", "state": "failed"})
    job.refresh_from_db()
    assert (job.query, job.state) == ("cats", JobState.SUCCEEDED)
    assert curator_client.get(reverse("admin:search_job_add")).status_code == 403


def test_retry_failed_items_sets_them_pending_and_resumes_the_job(
    curator_client, job, monkeypatch, django_capture_on_commit_callbacks
):
    from search.tasks.fetch import fetch_job_task

    queued = []
    monkeypatch.setattr(fetch_job_task, "apply_async", lambda args, **options: queued.append(args[0]))
    with django_capture_on_commit_callbacks(execute=True):
        response = curator_client.post(
            reverse("admin:search_job_changelist"),
            {"action": "retry_failed", "_selected_action": [job.id]},
            follow=True,
        )
    assert queued == [job.id]
    assert response.status_code == 200
    assert not job.items.filter(state=JobItemState.FAILED).exists()
    assert job.items.filter(state=JobItemState.PENDING, reason="").count() == 2
    job.refresh_from_db()
    assert (job.state, job.failed) == (JobState.PENDING, 0)
    assert b"2 failed items queued again" in response.content


def test_retrying_an_ingest_job_queues_its_pending_batches(
    curator_client, monkeypatch, django_capture_on_commit_callbacks
):
    from search.tasks.ingest import ingest_batch_task

    job = Job.objects.create(kind=JobKind.INGEST, state=JobState.SUCCEEDED, total=1, failed=1)
    item = JobItem.objects.create(job=job, source="/data/a.jpg", state=JobItemState.FAILED, reason="unreadable")
    queued = []
    monkeypatch.setattr(ingest_batch_task, "apply_async", lambda args, **options: queued.append(tuple(args)))
    with django_capture_on_commit_callbacks(execute=True):
        curator_client.post(
            reverse("admin:search_job_changelist"), {"action": "retry_failed", "_selected_action": [job.id]}
        )
    assert queued == [(job.id, [item.id])]


def test_viewers_cannot_retry(viewer_client, job):
    viewer_client.post(reverse("admin:search_job_changelist"), {"action": "retry_failed", "_selected_action": [job.id]})
    assert job.items.filter(state=JobItemState.FAILED).count() == 2
