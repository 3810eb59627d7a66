"""API tokens: made once, stored only as a hash, named, and revoked by their owner only."""

from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.models import ApiToken, Invitation
from accounts.services import (
    MAX_TOKENS_PER_USER,
    InvitationError,
    TokenError,
    hash_key,
    invitation_create,
    invitation_for_key,
    invitation_use,
    signup_allowed,
    token_authenticate,
    token_create,
    token_revoke,
)

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


def test_an_expired_token_is_refused(user):
    new = token_create(user=user, name="short-lived", expires_in_days=1)
    assert token_authenticate(new.key) == new.token
    ApiToken.objects.filter(pk=new.token.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    assert token_authenticate(new.key) is None


def test_a_token_expires_in_one_day_to_ten_years_or_never(user):
    with pytest.raises(TokenError, match="1 to 3650 days"):
        token_create(user=user, name="too long", expires_in_days=4000)
    assert token_create(user=user, name="forever").token.expires_at is None
    assert token_create(user=user, name="readonly", read_only=True).token.read_only


def test_an_invitation_is_usable_once_before_it_expires(user, other_user):
    new = invitation_create(created_by=user, note="for bob")
    assert invitation_for_key(new.key) == new.invitation
    invitation_use(key=new.key, user=other_user)
    with pytest.raises(InvitationError, match="used already"):
        invitation_for_key(new.key)
    expired = invitation_create(created_by=user, days=1)
    Invitation.objects.filter(pk=expired.invitation.pk).update(expires_at=timezone.now())
    with pytest.raises(InvitationError, match="expired"):
        invitation_for_key(expired.key)
    with pytest.raises(InvitationError, match="not valid"):
        invitation_for_key("inv_made-up")


@pytest.mark.parametrize(
    ("policy", "with_key", "allowed"),
    [("open", False, True), ("closed", True, False), ("invite", False, False), ("invite", True, True)],
)
def test_the_signup_policy(settings, user, policy, with_key, allowed):
    settings.SIGNUP_POLICY = policy
    key = invitation_create(created_by=user).key if with_key else ""
    assert signup_allowed(key) is allowed
