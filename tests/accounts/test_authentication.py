"""API requests authenticated by token: Token and Bearer headers, revoked keys and inactive users refused."""

import pytest
from rest_framework.test import APIClient

from accounts.models import ApiToken
from accounts.services import token_create, token_revoke

pytestmark = pytest.mark.django_db


def test_token_authenticates_and_revoking_it_locks_it_out(user):
    new = token_create(user=user, name="script")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {new.key}")
    assert client.get("/api/stats/").status_code == 200
    assert ApiToken.objects.get().last_used_at is not None
    assert token_revoke(user=user, token_id=new.token.id) is True
    refused = client.get("/api/stats/")
    assert refused.status_code == 401
    assert refused.json()["errors"][0]["message"] == "Unknown or revoked token."


def test_bearer_keyword_works_and_malformed_headers_are_401(user):
    new = token_create(user=user, name="script")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {new.key}")
    assert client.get("/api/stats/").status_code == 200
    for header in ("Token", "Token a b", "Token isk_wrong", "Token nope"):
        client.credentials(HTTP_AUTHORIZATION=header)
        assert client.get("/api/stats/").status_code == 401


def test_inactive_users_tokens_are_refused(user):
    new = token_create(user=user, name="script")
    user.is_active = False
    user.save()
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {new.key}")
    assert client.get("/api/stats/").status_code == 401


def test_a_read_only_token_searches_but_changes_nothing(user, encoder):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token_create(user=user, name='r', read_only=True).key}")
    assert client.post("/api/search/", {"query": "a red circle"}, format="json").status_code == 200
    assert client.get("/api/images/").status_code == 200
    refused = client.post("/api/sessions/", {}, format="json")
    assert refused.status_code == 403 and "read-only" in refused.json()["detail"]


def test_a_read_only_staff_token_cannot_edit_images(django_user_model):
    staff = django_user_model.objects.create_user("carol", is_staff=True)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token_create(user=staff, name='r', read_only=True).key}")
    assert client.patch("/api/images/1/", {"hidden": True}, format="json").status_code == 403
