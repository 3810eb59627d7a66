"""Accounts' own records: API tokens (stored only as a hash; the key is shown once, when it is made) and invitations
(the links that let someone sign up when sign-up is by invitation)."""

from __future__ import annotations

from django.conf import settings
from django.db import models


class ApiToken(models.Model):
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=100, help_text="what the token is for, e.g. 'backup script'")
    prefix = models.CharField(max_length=16, help_text="the key's first characters, to recognise it in a list")
    key_hash = models.CharField(max_length=64, unique=True, help_text="sha256 of the key; the key is never stored")
    read_only = models.BooleanField(default=False, help_text="may search and read, never change anything")
    expires_at = models.DateTimeField(null=True, blank=True, help_text="refused from then on; empty: never")
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["user", "name"], name="api_token_name_unique_per_user")]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    def is_expired(self, now) -> bool:
        return self.expires_at is not None and self.expires_at <= now


class Invitation(models.Model):
    """A sign-up link an administrator issued: used once, before it expires. Only the key's hash is stored."""

    key_hash = models.CharField(max_length=64, unique=True)
    note = models.CharField(max_length=200, blank=True, help_text="who it is for, to recognise it in the list")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="invitations_sent"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    used_by = models.OneToOneField(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="invitation"
    )
    used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"Invitation {self.pk}" + (f" ({self.note})" if self.note else "")

    def is_usable(self, now) -> bool:
        return self.used_at is None and self.expires_at > now
