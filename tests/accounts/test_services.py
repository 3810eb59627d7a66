"""API tokens: made once, stored only as a hash, named, and revoked by their owner only."""

import pytest

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


def test_a_user_cannot_revoke_someone_elses_token(user, other_user):
    new = token_create(user=user, name="script")
    assert token_revoke(user=other_user, token_id=new.token.id) is False
    assert ApiToken.objects.count() == 1
