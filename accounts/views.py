"""Account pages: sign up, and API tokens (list, create: the key is shown once, on the response to the POST, revoke).
Log in, log out and password change are Django's auth views with the site's templates."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.forms import SignUpForm, TokenForm
from accounts.services import (
    MAX_TOKENS_PER_USER,
    InvitationError,
    TokenError,
    invitation_for_key,
    invitation_use,
    signup_allowed,
    token_create,
    token_list,
    token_revoke,
)


@require_http_methods(["GET", "POST"])
def signup(request: HttpRequest) -> HttpResponse:
    """A new account, as SIGNUP_POLICY allows: open, by invitation (?invite=<key>) or closed."""
    next_url = request.POST.get("next") or request.GET.get("next") or ""
    invite = request.POST.get("invite") or request.GET.get("invite") or ""
    if request.user.is_authenticated:
        return redirect(_safe_next(request, next_url))
    if not signup_allowed(invite):
        return _signup_refused(request, invite)
    form = SignUpForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        with transaction.atomic():
            user = form.save()
            if settings.SIGNUP_POLICY == "invite":
                invitation_use(key=invite, user=user)
        login(request, user, backend="accounts.backends.LockoutModelBackend")
        return redirect(_safe_next(request, next_url))
    status = 400 if form.is_bound else 200
    context = {"form": form, "next": next_url, "invite": invite}
    return render(request, "accounts/signup.html", context, status=status)


def _signup_refused(request: HttpRequest, invite: str) -> HttpResponse:
    if invite:
        try:
            invitation_for_key(invite)
        except InvitationError as error:
            reason = str(error)
    else:
        reason = "New accounts are by invitation only: ask an administrator for a link."
    if settings.SIGNUP_POLICY == "closed":
        reason = "Sign-up is closed here: ask an administrator for an account."
    return render(request, "accounts/signup_closed.html", {"reason": reason}, status=403)


def _safe_next(request: HttpRequest, next_url: str) -> str:
    allowed = url_has_allowed_host_and_scheme(next_url, {request.get_host()}, require_https=request.is_secure())
    return next_url if next_url and allowed else reverse("search:home")


@login_required
@require_GET
def tokens(request: HttpRequest) -> HttpResponse:
    return _render(request)


@login_required
@require_POST
def token_create_view(request: HttpRequest) -> HttpResponse:
    form = TokenForm(request.POST)
    if not form.is_valid():
        return _render(request, error=" ".join(e for errors in form.errors.values() for e in errors), status=400)
    try:
        new = token_create(user=request.user, **form.cleaned_data)
    except TokenError as error:
        return _render(request, error=str(error), status=400)
    # Rendered, not redirected: the key exists only in this response and is never stored.
    return _render(request, new_key=new.key, new_token=new.token, status=201)


@login_required
@require_POST
def token_revoke_view(request: HttpRequest, token_id: int) -> HttpResponse:
    if token_revoke(user=request.user, token_id=token_id):
        messages.success(request, "The token is revoked; programs using it are refused from now on.")
    else:
        messages.error(request, "No such token.")
    return redirect("accounts:tokens")


def _render(request: HttpRequest, *, status: int = 200, **context) -> HttpResponse:
    context = {"tokens": token_list(user=request.user), "max_tokens": MAX_TOKENS_PER_USER, **context}
    return render(request, "accounts/tokens.html", context, status=status)
