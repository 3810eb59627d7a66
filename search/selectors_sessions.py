"""Reads for search sessions: one user's sessions and turns, never another user's."""

from __future__ import annotations

from django.db.models import Count, QuerySet

from search.models import SearchSession, SearchTurn


def session_get_for_user(*, user, session_id) -> SearchSession:
    """The user's session; SearchSession.DoesNotExist for a missing one, another user's, or an anonymous user."""
    if user is None or not user.is_authenticated:
        raise SearchSession.DoesNotExist("Anonymous users have no sessions.")
    try:
        session_id = int(session_id)
    except (TypeError, ValueError):
        raise SearchSession.DoesNotExist(f"No session {session_id!r}.") from None
    return SearchSession.objects.get(id=session_id, user=user)


def session_list_for_user(*, user) -> QuerySet[SearchSession]:
    """The user's sessions, most recently active first, each with its number of turns."""
    return SearchSession.objects.filter(user=user).annotate(turn_count=Count("turns"))


def turn_get(*, session: SearchSession, position=None) -> SearchTurn | None:
    """A turn of the session by position (1-based), or its last turn; None when the session has no turn yet."""
    turns = session.turns.select_related("query_image")
    if position in (None, ""):
        return turns.order_by("-position").first()
    try:
        return turns.get(position=int(position))
    except (SearchTurn.DoesNotExist, TypeError, ValueError):
        raise SearchTurn.DoesNotExist(f"Session {session.pk} has no turn {position!r}.") from None


def turn_list(*, session: SearchSession) -> list[SearchTurn]:
    """Every turn of the session in order, for the history column (without the vectors)."""
    return list(session.turns.defer("query_vector").order_by("position"))
