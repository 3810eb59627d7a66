from django.conf import settings


def signup(request) -> dict:
    """Pages offer "Sign up" only when anyone may (SIGNUP_POLICY open); invitations bring their own link."""
    return {"signup_policy": settings.SIGNUP_POLICY}
