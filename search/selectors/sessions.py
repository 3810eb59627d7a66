"""Reads for search sessions: one user's sessions and turns, never another user's."""

from __future__ import annotations

from django.db.models import Count, QuerySet

from search.errors import InvalidQuery
from search.models import Image, SearchSession, SearchTurn
from search.query import SearchHit
from search.selectors.vector import to_hit


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


def turn_to_refine(
    *, session: SearchSession, turn_id: int | None = None, position: int | None = None
) -> SearchTurn | None:
    """The turn a new one continues, named by id (the page, the websocket) or by position (the API); None for
    neither. InvalidQuery(field="parent") when the session has no such turn."""
    if turn_id is None and position is None:
        return None
    found = session.turns.filter(**({"pk": turn_id} if turn_id is not None else {"position": position})).first()
    if found is None:
        if turn_id is None:
            raise InvalidQuery(f"This session has no turn {position}.", field="parent")
        raise InvalidQuery("That turn is not part of this session.", field="parent")
    return found


def turn_hits(turn: SearchTurn) -> list[SearchHit]:
    """The results a turn showed, in order, with their scores; images hidden since then are left out."""
    ids = [row["id"] for row in turn.results]
    images = Image.objects.visible().defer("embedding", "caption_embedding").in_bulk(ids)
    return [to_hit(images[row["id"]], row["score"]) for row in turn.results if row["id"] in images]


def judged_ids(session: SearchSession, parent: SearchTurn | None) -> set[int]:
    """Images judged in `parent` and its ancestors: the branch a new turn continues."""
    rows = {
        row[0]: row
        for row in session.turns.values_list("id", "parent_id", "relevant_ids", "not_relevant_ids").order_by()
    }
    judged: set[int] = set()
    current = parent.pk if parent is not None else None
    seen: set[int] = set()
    while current is not None and current in rows and current not in seen:
        seen.add(current)
        _, parent_id, relevant, not_relevant = rows[current]
        judged.update(relevant, not_relevant)
        current = parent_id
    return judged


def turn_list(*, session: SearchSession) -> list[SearchTurn]:
    """Every turn of the session in order, for the history column (without the vectors)."""
    return list(session.turns.defer("query_vector").order_by("position"))
