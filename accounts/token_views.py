"""The account page's API tokens: list, create (the key is shown once, on the response to the POST), revoke."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from accounts.tokens import MAX_TOKENS_PER_USER, TokenError, token_create, token_list, token_revoke


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
