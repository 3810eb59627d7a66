"""Account services: API tokens (create: the key is returned once; revoke; look a key up), invitations (issue a
sign-up link, check and use it), and the sign-up policy."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.models import ApiToken, Invitation

KEY_PREFIX = "isk_"
MAX_TOKENS_PER_USER = 20
MAX_TOKEN_DAYS = 3650
# Writing last_used_at on every request would turn each API read into a write; once a minute is enough to audit.
LAST_USED_RESOLUTION = timedelta(minutes=1)


class TokenError(ValueError):
    """A token request the service refuses; str(error) says why."""


@dataclass(frozen=True)
class NewToken:
    token: ApiToken
    key: str  # shown to the user once, never stored


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def token_create(
    *, user: AbstractBaseUser, name: str, read_only: bool = False, expires_in_days: int | None = None
) -> NewToken:
    """Make a named token for `user`, read-only or not, expiring after some days or never; the returned key is the
    only copy there will ever be."""
    name = " ".join(name.split())
    if expires_in_days is not None and not 1 <= expires_in_days <= MAX_TOKEN_DAYS:
        raise TokenError(f"A token expires after 1 to {MAX_TOKEN_DAYS} days, or never.")
    expires_at = timezone.now() + timedelta(days=expires_in_days) if expires_in_days else None
    if not name:
        raise TokenError("Give the token a name.")
    if len(name) > 100:
        raise TokenError("The name is longer than 100 characters.")
    if ApiToken.objects.filter(user=user).count() >= MAX_TOKENS_PER_USER:
        raise TokenError(f"You already have {MAX_TOKENS_PER_USER} tokens; revoke one first.")
    key = KEY_PREFIX + secrets.token_urlsafe(32)
    try:
        with transaction.atomic():
            token = ApiToken.objects.create(
                user=user,
                name=name,
                prefix=key[:12],
                key_hash=hash_key(key),
                read_only=read_only,
                expires_at=expires_at,
            )
    except IntegrityError:
        raise TokenError(f"You already have a token named {name!r}.") from None
    return NewToken(token=token, key=key)


def token_revoke(*, user: AbstractBaseUser, token_id: int) -> bool:
    """Delete one of the user's tokens; False if the user has no such token."""
    deleted, _ = ApiToken.objects.filter(user=user, id=token_id).delete()
    return deleted > 0


def token_list(*, user: AbstractBaseUser) -> list[ApiToken]:
    return list(ApiToken.objects.filter(user=user))


def token_authenticate(key: str) -> ApiToken | None:
    """The active token with this key, its user loaded; records when it was last used."""
    if not key.startswith(KEY_PREFIX) or len(key) > 200:
        return None
    token = ApiToken.objects.select_related("user").filter(key_hash=hash_key(key)).first()
    now = timezone.now()
    if token is None or not token.user.is_active or token.is_expired(now):
        return None
    if token.last_used_at is None or now - token.last_used_at > LAST_USED_RESOLUTION:
        ApiToken.objects.filter(id=token.id).update(last_used_at=now)
        token.last_used_at = now
    return token


# --- Invitations and the sign-up policy -----------------------------------------------------------------------------

INVITE_PREFIX = "inv_"


class InvitationError(ValueError):
    """An invitation that cannot be used; str(error) says why, for the person holding the link."""


@dataclass(frozen=True)
class NewInvitation:
    invitation: Invitation
    key: str  # part of the link, shown once to the administrator who issued it


def signup_allowed(invite_key: str = "") -> bool:
    """Whether the sign-up page may take a new account: SIGNUP_POLICY open, or invite with a usable key."""
    if settings.SIGNUP_POLICY == "open":
        return True
    if settings.SIGNUP_POLICY == "invite" and invite_key:
        try:
            invitation_for_key(invite_key)
        except InvitationError:
            return False
        return True
    return False


def invitation_create(*, created_by: AbstractBaseUser | None, note: str = "", days: int | None = None) -> NewInvitation:
    """Issue a sign-up link valid for `days` (default INVITATION_DAYS); the key is returned once."""
    key = INVITE_PREFIX + secrets.token_urlsafe(24)
    expires_at = timezone.now() + timedelta(days=days or settings.INVITATION_DAYS)
    invitation = Invitation.objects.create(
        key_hash=hash_key(key), note=" ".join(note.split())[:200], created_by=created_by, expires_at=expires_at
    )
    return NewInvitation(invitation, key)


def invitation_for_key(key: str) -> Invitation:
    """The usable invitation with this key; InvitationError says why not."""
    invitation = Invitation.objects.filter(key_hash=hash_key(key)).first() if key.startswith(INVITE_PREFIX) else None
    if invitation is None:
        raise InvitationError("This invitation link is not valid.")
    if invitation.used_at is not None:
        raise InvitationError("This invitation has been used already.")
    if not invitation.is_usable(timezone.now()):
        raise InvitationError("This invitation has expired; ask for a new one.")
    return invitation


@transaction.atomic
def invitation_use(*, key: str, user: AbstractBaseUser) -> Invitation:
    """Mark the invitation used by the account it just created (once: a second use is refused)."""
    invitation = Invitation.objects.select_for_update().get(pk=invitation_for_key(key).pk)
    if invitation.used_at is not None:
        raise InvitationError("This invitation has been used already.")
    invitation.used_by, invitation.used_at = user, timezone.now()
    invitation.save(update_fields=["used_by", "used_at"])
    return invitation
