"""Invitations in the admin: issue a sign-up link (shown once), see which were used, by whom, and which expired."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.urls import reverse
from django.utils import timezone

from accounts.models import Invitation
from accounts.services import invitation_create


class InvitationForm(forms.ModelForm):
    days = forms.IntegerField(min_value=1, max_value=365, required=False, help_text="valid for (default: 14 days)")

    class Meta:
        model = Invitation
        fields = ["note"]


@admin.register(Invitation)
class InvitationAdmin(admin.ModelAdmin):
    form = InvitationForm
    list_display = ["__str__", "created_by", "created_at", "expires_at", "state", "used_by"]
    readonly_fields = ["created_by", "created_at", "expires_at", "used_by", "used_at"]

    @admin.display(description="state")
    def state(self, invitation: Invitation) -> str:
        if invitation.used_at:
            return "used"
        return "usable" if invitation.is_usable(timezone.now()) else "expired"

    def has_change_permission(self, request, obj=None):
        return obj is None and super().has_change_permission(request, obj)  # issued, then only read or revoked

    def save_model(self, request, obj, form, change):
        new = invitation_create(created_by=request.user, note=form.cleaned_data["note"], days=form.cleaned_data["days"])
        obj.pk = new.invitation.pk  # the admin's redirect and log name the row the service made
        link = request.build_absolute_uri(reverse("accounts:signup") + f"?invite={new.key}")
        self.message_user(
            request, f"Send this link to the person you invite (it is shown only now): {link}", messages.WARNING
        )
