from django.contrib.auth.forms import UserCreationForm


class SignUpForm(UserCreationForm):
    """Username and password (twice), checked by the project's password validators."""

    class Meta(UserCreationForm.Meta):
        fields = ("username",)
