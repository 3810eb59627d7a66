"""The fetch page: a user allowed to add images asks for web images and lands on the job's live page."""

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse

from search.models import Image, Job, JobState, SearchSession

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("background_settings", "caption_requests")]
PASSWORD = "a-long-test-passphrase-42"


@pytest.fixture
def user(django_user_model):
    """A user who may add images to the shared collection (search.add_image)."""
    user = django_user_model.objects.create_user(username="ann", password=PASSWORD)
    user.user_permissions.add(Permission.objects.get(codename="add_image"))
    return user


def test_users_who_may_not_add_images_cannot_fetch(client, django_user_model):
    client.force_login(django_user_model.objects.create_user(username="viewer", password=PASSWORD))
    assert client.get(reverse("search:fetch")).status_code == 403
    assert client.post(reverse("search:fetch"), {"query": "red pandas", "count": 3}).status_code == 403
    assert not Job.objects.exists()


def test_anonymous_users_are_sent_to_log_in(client):
    response = client.get(reverse("search:fetch"))
    assert response.status_code == 302
    assert "login" in response["Location"]


def test_the_page_shows_the_form(client, user):
    client.force_login(user)
    response = client.get(reverse("search:fetch"))
    assert response.status_code == 200
    assert b'name="query"' in response.content


def test_a_fetch_runs_and_its_page_shows_the_report(
    client, user, eager, local_web, fake_search, encoder, django_capture_on_commit_callbacks
):
    client.force_login(user)
    fake_search.urls = [local_web.url("/img/70.jpg"), local_web.url("/page.html")]
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("search:fetch"), {"query": "red pandas", "count": 3})
    job = Job.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("search:fetch_job", args=[job.pk])
    job.refresh_from_db()
    assert (job.state, job.user, job.done, Image.objects.count()) == (JobState.SUCCEEDED, user, 1, 1)

    page = client.get(response["Location"])
    assert page.status_code == 200
    assert f'data-socket="/ws/jobs/{job.pk}/"'.encode() in page.content
    assert b"content type text/html is not an image" in page.content
    assert job.message.encode() in page.content


@pytest.mark.parametrize(
    ("data", "error"),
    [
        ({"query": "", "count": 3}, b"This field is required"),
        ({"query": "x", "count": 0}, b"greater than or equal to 1"),
        ({"query": "x", "count": 100_000}, b"less than or equal to"),
        ({"query": "x", "count": "many"}, b"Enter a whole number"),
        ({"query": "x", "count": 3, "session": 999_999}, b"No such search session"),
    ],
)
def test_bad_requests_get_a_400_and_no_job(client, user, data, error):
    client.force_login(user)
    response = client.post(reverse("search:fetch"), data)
    assert response.status_code == 400
    assert error in response.content
    assert not Job.objects.exists()


def test_another_users_session_cannot_receive_the_events(client, user, django_user_model):
    other = django_user_model.objects.create_user(username="mallory", password=PASSWORD)
    session = SearchSession.objects.create(user=other)
    client.force_login(user)
    response = client.post(reverse("search:fetch"), {"query": "x", "count": 1, "session": session.pk})
    assert response.status_code == 400


def test_another_users_job_is_a_404(client, user, django_user_model):
    other = django_user_model.objects.create_user(username="mallory", password=PASSWORD)
    job = Job.objects.create(kind="fetch", user=other, query="secret")
    client.force_login(user)
    assert client.get(reverse("search:fetch_job", args=[job.pk])).status_code == 404


def test_the_owner_cancels_a_running_job_from_its_page(client, user):
    job = Job.objects.create(kind="fetch", user=user, query="cats", state=JobState.RUNNING)
    client.force_login(user)
    page = client.get(reverse("search:fetch_job", args=[job.pk]))
    cancel_url = reverse("search:fetch_job_cancel", args=[job.pk])
    assert cancel_url.encode() in page.content
    assert client.get(cancel_url).status_code == 405
    response = client.post(cancel_url)
    assert response["Location"] == reverse("search:fetch_job", args=[job.pk])
    job.refresh_from_db()
    assert (job.state, job.message) == (JobState.CANCELLED, "Cancelled by ann. So far: 0 indexed, 0 skipped, 0 failed.")
    assert cancel_url.encode() not in client.get(response["Location"]).content


def test_only_the_owner_or_a_curator_may_cancel(client, user, django_user_model):
    job = Job.objects.create(kind="fetch", user=user, query="cats", state=JobState.RUNNING)
    cancel_url = reverse("search:fetch_job_cancel", args=[job.pk])
    client.force_login(django_user_model.objects.create_user(username="mallory", password=PASSWORD))
    assert client.post(cancel_url).status_code == 404
    staff = django_user_model.objects.create_user(username="watcher", password=PASSWORD, is_staff=True)
    client.force_login(staff)  # staff may watch every job...
    assert client.post(cancel_url).status_code == 403  # ...but not stop another user's
    job.refresh_from_db()
    assert job.state == JobState.RUNNING
    staff.user_permissions.add(Permission.objects.get(content_type__app_label="search", codename="change_job"))
    client.force_login(django_user_model.objects.get(pk=staff.pk))
    assert client.post(cancel_url).status_code == 302
    job.refresh_from_db()
    assert job.state == JobState.CANCELLED


def test_a_failed_fetch_is_explained_in_one_sentence_with_a_retry(client, user):
    user.user_permissions.add(Permission.objects.get(content_type__app_label="search", codename="add_image"))
    message = "DNSError: DNSError('error sending request for url (https://duckduckgo.com/)')"
    job = Job.objects.create(
        kind="fetch", user=user, query="owls", params={"count": 4}, state=JobState.FAILED, message=message
    )
    client.force_login(user)
    page = client.get(reverse("search:fetch_job", args=[job.pk])).content.decode()
    assert "could not be reached from this server" in page and 'id="fetch-retry"' in page
    assert 'name="query" value="owls"' in page and 'name="count" value="4"' in page
