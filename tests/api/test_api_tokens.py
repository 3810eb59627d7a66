import pytest
from rest_framework.test import APIClient

from accounts.models import ApiToken
from accounts.services import MAX_TOKENS_PER_USER, TokenError, hash_key, token_create, token_revoke

pytestmark = pytest.mark.django_db


def test_a_token_is_stored_only_as_a_hash(user):
    new = token_create(user=user, name="backup script")
    token = ApiToken.objects.get()
    assert new.key.startswith("isk_")
    assert token.key_hash == hash_key(new.key)
    assert new.key not in str(ApiToken.objects.values().get())
    assert token.prefix == new.key[:12]


def test_token_names_are_checked(user):
    token_create(user=user, name="laptop")
    with pytest.raises(TokenError, match="already have a token named"):
        token_create(user=user, name="  laptop ")
    with pytest.raises(TokenError, match="name"):
        token_create(user=user, name="   ")
    for n in range(MAX_TOKENS_PER_USER - 1):
        token_create(user=user, name=f"t{n}")
    with pytest.raises(TokenError, match="revoke one first"):
        token_create(user=user, name="one more")


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


def test_a_user_cannot_revoke_someone_elses_token(user, other_user):
    new = token_create(user=user, name="script")
    assert token_revoke(user=other_user, token_id=new.token.id) is False
    assert ApiToken.objects.count() == 1


def test_token_page_creates_shows_the_key_once_and_revokes(client, user):
    client.force_login(user)
    assert client.get("/accounts/tokens/").status_code == 200
    created = client.post("/accounts/tokens/new/", {"name": "my script"})
    assert created.status_code == 201
    key = created.context["new_key"]
    assert key in created.content.decode()
    listing = client.get("/accounts/tokens/").content.decode()
    assert "my script" in listing
    assert key not in listing
    token = ApiToken.objects.get(user=user)
    revoked = client.post(f"/accounts/tokens/{token.id}/revoke/")
    assert revoked.status_code == 302
    assert not ApiToken.objects.exists()


def test_token_page_refuses_bad_names_and_other_users_tokens(client, user, other_user):
    client.force_login(user)
    assert client.post("/accounts/tokens/new/", {"name": ""}).status_code == 400
    theirs = token_create(user=other_user, name="theirs").token
    client.post(f"/accounts/tokens/{theirs.id}/revoke/")
    assert ApiToken.objects.filter(id=theirs.id).exists()


def test_token_page_needs_login(client):
    response = client.get("/accounts/tokens/")
    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]
    assert client.post("/accounts/tokens/new/", {"name": "x"}).status_code == 302
    assert not ApiToken.objects.exists()
