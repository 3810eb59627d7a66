"""Account pages: sign up, and API tokens (list, create: the key is shown once, on the response to the POST, revoke).
Log in, log out and password change are Django's auth views with the site's templates."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.forms import SignUpForm
from accounts.services import MAX_TOKENS_PER_USER, TokenError, token_create, token_list, token_revoke


@require_http_methods(["GET", "POST"])
def signup(request: HttpRequest) -> HttpResponse:
    next_url = request.POST.get("next") or request.GET.get("next") or ""
    if request.user.is_authenticated:
        return redirect(_safe_next(request, next_url))
    form = SignUpForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        user = form.save()
        login(request, user, backend="django.contrib.auth.backends.ModelBackend")
        return redirect(_safe_next(request, next_url))
    status = 400 if form.is_bound else 200
    return render(request, "accounts/signup.html", {"form": form, "next": next_url}, status=status)


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
    try:
        new = token_create(user=request.user, name=request.POST.get("name", ""))
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
