"""Search sessions in the admin: visible to superusers only, read-only."""

import pytest
from django.contrib.auth.models import User
from django.urls import reverse

from search.models import SearchSession

pytestmark = pytest.mark.django_db


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
