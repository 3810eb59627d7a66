from django import forms
from django.conf import settings
from django.contrib.auth.forms import AuthenticationForm, UserCreationForm

from accounts.lockout import client_address, login_locked


class SignUpForm(UserCreationForm):
    """Username, an email address (optional: it is how a forgotten password is reset) and the password twice,
    checked by the project's password validators."""

    class Meta(UserCreationForm.Meta):
        fields = ("username", "email")
        help_texts = {"email": "Optional: where a link to reset your password is sent if you forget it."}


class LoginForm(AuthenticationForm):
    """Django's login form, saying so when the account or the address is locked out for a while."""

    def clean(self):
        username = self.cleaned_data.get("username") or ""
        if username and login_locked(username, client_address(self.request)):
            raise forms.ValidationError(
                f"Too many failed logins. Try again in {settings.LOGIN_LOCKOUT_MINUTES} minutes, or reset your "
                "password.",
                code="locked",
            )
        return super().clean()


class TokenForm(forms.Form):
    """A new API token: its name, whether it may change anything, and when it expires."""

    EXPIRY_CHOICES = [("", "Never"), ("30", "In 30 days"), ("90", "In 90 days"), ("365", "In a year")]

    name = forms.CharField(max_length=100)
    read_only = forms.BooleanField(required=False, label="Read-only (search and read, never change anything)")
    expires_in_days = forms.TypedChoiceField(
        choices=EXPIRY_CHOICES, coerce=int, empty_value=None, required=False, label="Expires"
    )
