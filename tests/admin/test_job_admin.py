"""The Jobs admin: starting a web fetch."""

from types import SimpleNamespace

import pytest
from django.contrib.auth.models import Permission, User
from django.urls import reverse

from search.models import Job, JobKind, JobState

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

    def delay(job_id):
        calls.append(job_id)
        return SimpleNamespace(id=f"task-{job_id}")

    monkeypatch.setattr(fetch_job_task, "delay", delay)
    return calls


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
    assert b"red pandas" in page.content and b"Pending" in page.content


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
