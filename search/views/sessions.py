"""The search pages: the home page that starts a session, a session at one of its turns (and its refinement posted
without the websocket), the history of sessions. Every view requires login."""

from __future__ import annotations

from dataclasses import asdict

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBadRequest, JsonResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from search.errors import InvalidQuery
from search.files import file_response
from search.forms import RefineForm, RenameForm, SearchForm
from search.models import SearchSession, SearchTurn, TurnKind
from search.query import MAX_TEXT_LENGTH, MAX_TOP_K, PhotoFilters
from search.selectors.overview import collection_overview
from search.selectors.sessions import (
    TurnNode,
    query_image_get,
    session_get_for_user,
    session_list_for_user,
    turn_constraints,
    turn_get,
    turn_hits,
    turn_list,
    turn_more_hits,
    turn_to_refine,
    turn_tree,
)
from search.selectors.vector import image_url
from search.services.sessions import session_delete, session_rename, session_start, turn_create_with_upload

RECENT_SESSIONS = 6


@login_required
@require_http_methods(["GET", "POST"])
def home(request: HttpRequest) -> HttpResponse:
    """The start of a new search session; a valid query creates the session and opens it."""
    form = SearchForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        upload = data.get("image")
        try:
            session = session_start(
                user=request.user,
                text=data.get("q") or "",
                data=upload.read() if upload else None,
                original_name=upload.name if upload else "",
                image_weight=data.get("image_weight"),
                top_k=data.get("k") or settings.SEARCH_DEFAULT_TOP_K,
                mode="hybrid" if data.get("hybrid") else "vector",
                photo=data["photo"],
            )
        except InvalidQuery as error:
            form.add_error("image" if error.field == "image" else None, plain_message(error))
        else:
            return redirect("search:session", session_id=session.pk)
    recent = session_list_for_user(user=request.user)[:RECENT_SESSIONS]
    status = 400 if form.is_bound and form.errors else 200
    context = {
        "form": form,
        "recent": recent,
        "overview": collection_overview(),
        "upload_limit": settings.UPLOAD_MAX_BYTES,
        "upload_limit_mb": settings.UPLOAD_MAX_BYTES // (1024 * 1024),
        "max_text": MAX_TEXT_LENGTH,
    }
    return render(request, "search/home.html", context, status=status)


def plain_message(error: InvalidQuery) -> str:
    """A refusal as the page says it: no library names, and what to do next."""
    if "Pillow" in error.message:
        return (
            "This file is not an image that can be read: it may be damaged, or not a picture at all. "
            "Choose a JPEG, PNG, WebP or GIF picture."
        )
    return error.message


@login_required
@require_GET
def sessions(request: HttpRequest) -> HttpResponse:
    """The history page: every session of the user, to reopen, rename or delete."""
    return render(request, "search/sessions.html", {"sessions": session_list_for_user(user=request.user)})


def _own_session(request: HttpRequest, session_id: int) -> SearchSession:
    try:
        return session_get_for_user(user=request.user, session_id=session_id)
    except SearchSession.DoesNotExist:
        raise Http404("No such search session.") from None


@login_required
@require_http_methods(["GET", "POST"])
def session_detail(request: HttpRequest, session_id: int) -> HttpResponse:
    """A session at one of its turns (?turn=N, default the last); POST is the no-websocket refinement."""
    session = _own_session(request, session_id)
    if request.method == "POST":
        return _refine(request, session)
    try:
        turn = turn_get(session=session, position=request.GET.get("turn"))
    except SearchTurn.DoesNotExist:
        raise Http404("This session has no such turn.") from None
    return render(request, "search/session.html", session_context(session, turn, form=RefineForm()))


def _refine(request: HttpRequest, session: SearchSession) -> HttpResponse:
    form = RefineForm(request.POST, request.FILES)
    turn = None
    if form.is_valid():
        try:
            turn = _refine_turn(session, form)
        except InvalidQuery as error:
            form.add_error(error.field if error.field in form.fields else None, plain_message(error))
    if turn is None:
        current = turn_get(session=session)
        return render(request, "search/session.html", session_context(session, current, form=form), status=400)
    return redirect(f"{reverse('search:session', args=[session.pk])}?turn={turn.position}")


def _refine_turn(session: SearchSession, form: RefineForm) -> SearchTurn:
    data = form.cleaned_data
    parent = turn_to_refine(session=session, turn_id=data.get("parent"))
    upload = data.get("image")
    return turn_create_with_upload(
        session=session,
        data=upload.read() if upload else None,
        original_name=upload.name if upload else "",
        query_image=None if upload else query_image_get(session=session, query_image_id=data.get("query_image")),
        parent=parent,
        text=data.get("text") or "",
        image_weight=data.get("image_weight"),
        feedback=data.get("feedback") or "",
        relevant_ids=data.get("relevant") or (),
        not_relevant_ids=data.get("not_relevant") or (),
        more_like_image_id=data.get("more_like"),
        top_k=data.get("k") or settings.SEARCH_DEFAULT_TOP_K,
        show_judged=data.get("show_judged") or False,
        weights=form.weights(),
        client_key=data.get("key") or "",
    )


def session_context(session: SearchSession, turn: SearchTurn | None, *, form: RefineForm | None = None) -> dict:
    """What the session page and its fragments (results, turn tree) render."""
    turns = turn_list(session=session)
    constraints = turn_constraints(turns, turn)
    hits = turn_hits(turn) if turn is not None else []
    return {
        "session": session,
        "turn": turn,
        "turns": turns,
        "turn_tree": [_node(session, node) for node in turn_tree(turns)],
        "constraints": constraints,
        "constraints_json": {**asdict(constraints), "filters": turn.filters if turn is not None else {}},
        "query_image_url": _query_image_url(session, constraints.query_image_id),
        "hits": hits,
        "more_url": _more_url(session, turn, hits),
        "form": form,
        "max_uploads": settings.SESSION_MAX_UPLOADS,
        "upload_limit": settings.UPLOAD_MAX_BYTES,
        "max_text": MAX_TEXT_LENGTH,
        "image_weight": _image_weight(turn),
        "filter_words": filter_words(turn.filters if turn is not None else {}),
    }


def filter_words(filters: dict) -> list[str]:
    """A turn's mode and photo filters in words, for the chips above its results."""
    photo = PhotoFilters.from_json(filters)
    words = ["caption and file-name words count too"] if filters.get("mode") == "hybrid" else []
    if photo.taken_after:
        words.append(f"taken from {photo.taken_after:%-d %b %Y}")
    if photo.taken_before:
        words.append(f"taken until {photo.taken_before:%-d %b %Y}")
    if photo.camera:
        words.append(f"camera “{photo.camera}”")
    if photo.has_location is not None:
        words.append("with a place" if photo.has_location else "without a place")
    if photo.bbox:
        words.append("within a map area")
    return words


def _image_weight(turn: SearchTurn | None) -> str:
    weight = turn.image_weight if turn is not None and turn.image_weight is not None else None
    return f"{settings.SEARCH_IMAGE_WEIGHT if weight is None else weight:g}"


TURN_LABELS = {
    TurnKind.QUERY: "Search",
    TurnKind.FEEDBACK: "Refined",
    TurnKind.JUDGEMENT: "Marked results",
    TurnKind.MORE_LIKE_THIS: "More like this",
}


def _node(session: SearchSession, node: TurnNode) -> dict:
    """A turn of the tree as the page shows it: a plain label and thumbnails of what it started from."""
    turn = node.turn
    thumbs = []
    if turn.kind == TurnKind.QUERY and turn.query_image_id:
        thumbs.append({"url": _query_image_url(session, turn.query_image_id), "alt": "your example image"})
    if turn.more_like_image_id:
        thumbs.append({"url": image_url(turn.more_like_image_id, "thumbnail"), "alt": "the image it started from"})
    for image_id in turn.relevant_ids[: 3 - len(thumbs)]:
        thumbs.append({"url": image_url(image_id, "thumbnail"), "alt": "marked relevant"})
    branches = [[_node(session, child) for child in line] for line in node.branches]
    return {
        "turn": turn,
        "label": TURN_LABELS.get(turn.kind, turn.get_kind_display()),
        "thumbs": thumbs,
        "branches": branches,
    }


def _query_image_url(session: SearchSession, query_image_id: int | None) -> str:
    if query_image_id is None:
        return ""
    return reverse("search:query_image", args=[session.pk, query_image_id])


def _more_url(session: SearchSession, turn: SearchTurn | None, hits: list) -> str:
    if turn is None or not hits or len(turn.results) >= MAX_TOP_K:
        return ""
    return reverse("search:turn_more", args=[session.pk, turn.position])


def turn_fragments(session: SearchSession, turn: SearchTurn) -> dict[str, str]:
    """The results, the turn tree and the query panel as HTML, for the websocket to swap into an open page."""
    context = session_context(session, turn)
    return {
        "results_html": render_to_string("search/_turn_results.html", context),
        "turns_html": render_to_string("search/_turn_list.html", context),
        "query_html": render_to_string("search/_query_panel.html", context),
    }


@login_required
@require_GET
def turn_more(request: HttpRequest, session_id: int, position: int) -> JsonResponse:
    """The next results of a turn, after the `shown` already on the page: {"html": cards, "more": bool}."""
    session = _own_session(request, session_id)
    try:
        turn = turn_get(session=session, position=position)
        shown = int(request.GET.get("shown", ""))
    except (SearchTurn.DoesNotExist, ValueError):
        raise Http404("This session has no such turn.") from None
    page = turn_more_hits(session=session, turn=turn, shown=shown)
    html = render_to_string("search/_result_cards.html", {"hits": page.hits}, request=request)
    return JsonResponse({"html": html, "more": page.more})


@login_required
@require_GET
def query_image(request: HttpRequest, session_id: int, query_image_id: int) -> HttpResponse:
    """An example image uploaded in one of the user's sessions (turn thumbnails, the query bar)."""
    session = _own_session(request, session_id)
    found = session.query_images.filter(pk=query_image_id).first()
    if found is None:
        raise Http404("No such example image.")
    return file_response(found.file)


@login_required
@require_POST
def session_rename_view(request: HttpRequest, session_id: int) -> HttpResponse:
    session = _own_session(request, session_id)
    form = RenameForm(request.POST)
    if not form.is_valid():
        return HttpResponseBadRequest("The title is too long (200 characters at most).")
    session_rename(session=session, title=form.cleaned_data["title"])
    messages.success(request, "Session renamed.")
    return redirect(session_url(session) if request.POST.get("next") == "session" else reverse("search:sessions"))


@login_required
@require_http_methods(["GET", "POST"])
def session_delete_view(request: HttpRequest, session_id: int) -> HttpResponse:
    session = _own_session(request, session_id)
    if request.method == "GET":
        return render(request, "search/session_delete.html", {"session": session})
    title = str(session)
    session_delete(session=session)
    messages.success(request, f"Deleted “{title}”.")
    return redirect("search:sessions")


def session_url(session: SearchSession) -> str:
    return reverse("search:session", args=[session.pk])
