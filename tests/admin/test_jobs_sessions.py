import pytest
from django.contrib.auth.models import User
from django.urls import reverse

from search.models import Job, JobItem, JobItemState, JobKind, JobState, SearchSession

pytestmark = pytest.mark.django_db


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
    monkeypatch.setattr(fetch_job_task, "delay", lambda job_id: queued.append(job_id))
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
    monkeypatch.setattr(ingest_batch_task, "delay", lambda job_id, item_ids: queued.append((job_id, item_ids)))
    with django_capture_on_commit_callbacks(execute=True):
        curator_client.post(
            reverse("admin:search_job_changelist"), {"action": "retry_failed", "_selected_action": [job.id]}
        )
    assert queued == [(job.id, [item.id])]


def test_viewers_cannot_retry(viewer_client, job):
    viewer_client.post(reverse("admin:search_job_changelist"), {"action": "retry_failed", "_selected_action": [job.id]})
    assert job.items.filter(state=JobItemState.FAILED).count() == 2


@pytest.fixture
def session(db):
    owner = User.objects.create_user("searcher", password="pw")
    return SearchSession.objects.create(user=owner, title="red cars")


def test_search_sessions_are_for_superusers_only(client, curator, session):
    url = reverse("admin:search_searchsession_change", args=[session.id])
    client.force_login(curator)  # staff with every search permission, view_searchsession included
    assert client.get(reverse("admin:search_searchsession_changelist")).status_code == 403
    assert client.get(url).status_code == 403
    client.force_login(User.objects.create_superuser("root", password="pw"))
    assert client.get(reverse("admin:search_searchsession_changelist")).status_code == 200
    page = client.get(url)
    assert page.status_code == 200 and b"red cars" in page.content
    client.post(url, {"title": "changed"})
    session.refresh_from_db()
    assert session.title == "red cars"
    assert client.get(reverse("admin:search_searchsession_delete", args=[session.id])).status_code == 403
