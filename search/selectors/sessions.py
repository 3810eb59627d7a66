"""Reads for search sessions: one user's sessions and turns, never another user's."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

import numpy as np
from django.conf import settings
from django.db.models import Count, QuerySet

from search.errors import InvalidQuery
from search.models import Image, QueryImage, SearchSession, SearchTurn, TurnKind
from search.query import MAX_TOP_K, PhotoFilters, SearchHit, SearchScope
from search.selectors.vector import search_by_vector, to_hit


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
    images = Image.objects.visible().defer("caption_embedding").in_bulk(ids)
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


def query_image_get(*, session: SearchSession, query_image_id) -> QueryImage | None:
    """An image uploaded earlier in this session, to search with again; None for None."""
    if query_image_id is None:
        return None
    if isinstance(query_image_id, bool) or not isinstance(query_image_id, int):
        raise InvalidQuery("query_image must be the id of an image uploaded in this session.", field="image")
    found = session.query_images.filter(pk=query_image_id).first()
    if found is None:
        raise InvalidQuery("That example image is no longer kept; upload it again.", field="image")
    return found


@dataclass
class TurnNode:
    """A turn in the session's tree: `branches` are the lines of turns that refined it other than the first."""

    turn: SearchTurn
    branches: list[list[TurnNode]] = field(default_factory=list)


def turn_tree(turns: list[SearchTurn]) -> list[TurnNode]:
    """The turns as lines: a turn's first refinement continues its line, every later one opens a branch under it."""
    children: dict[int | None, list[SearchTurn]] = defaultdict(list)
    known = {turn.pk for turn in turns}
    for turn in sorted(turns, key=lambda item: item.position):
        children[turn.parent_id if turn.parent_id in known else None].append(turn)

    def line(start: SearchTurn) -> list[TurnNode]:
        nodes, current = [], start
        while current is not None:
            first, *others = children.get(current.pk, []) or [None]
            nodes.append(TurnNode(current, [line(other) for other in others]))
            current = first
        return nodes

    return [node for root in children[None] for node in line(root)]


@dataclass(frozen=True)
class Constraints:
    """What the search on screen is made of, read along its branch back to where it started: the description or
    the image it started from, then every refinement text and judgement since."""

    description: str = ""
    query_image_id: int | None = None
    more_like_image_id: int | None = None
    feedback: tuple[str, ...] = ()
    relevant_ids: tuple[int, ...] = ()
    not_relevant_ids: tuple[int, ...] = ()


def turn_constraints(turns: list[SearchTurn], turn: SearchTurn | None) -> Constraints:
    """The constraints in force at `turn` (see Constraints), from the session's turns."""
    by_id = {item.pk: item for item in turns}
    branch, current, seen = [], turn, set()
    while current is not None and current.pk not in seen:
        seen.add(current.pk)
        branch.append(current)
        if current.kind in (TurnKind.QUERY, TurnKind.MORE_LIKE_THIS):
            break
        current = by_id.get(current.parent_id)
    if not branch:
        return Constraints()
    start, refinements = branch[-1], list(reversed(branch[:-1]))
    feedback = _start_feedback(start) + [part for item in refinements for part in _parts(item.text)]
    judged = [start, *refinements]
    return Constraints(
        description=start.text if start.kind == TurnKind.QUERY else "",
        query_image_id=start.query_image_id if start.kind == TurnKind.QUERY else None,
        more_like_image_id=start.more_like_image_id if start.kind == TurnKind.MORE_LIKE_THIS else None,
        feedback=tuple(feedback),
        relevant_ids=tuple(dict.fromkeys(i for item in judged for i in item.relevant_ids)),
        not_relevant_ids=tuple(dict.fromkeys(i for item in judged for i in item.not_relevant_ids)),
    )


def _start_feedback(start: SearchTurn) -> list[str]:
    # A search started again without one of its refinements carries the others in its query text after the base.
    if start.kind == TurnKind.MORE_LIKE_THIS:
        return _parts(start.query_text)
    if start.text and start.query_text.startswith(start.text):
        return _parts(start.query_text[len(start.text) :])
    return []


def _parts(text: str) -> list[str]:
    return [part.strip() for part in (text or "").split(";") if part.strip()]


@dataclass(frozen=True)
class HitsPage:
    hits: list[SearchHit]
    more: bool


def turn_more_hits(*, session: SearchSession, turn: SearchTurn, shown: int, page: int | None = None) -> HitsPage:
    """Results of `turn` past the `shown` on the page: the next best by its query vector within its photo filters,
    leaving out what it showed and what its branch judged, as the turn itself did (a hybrid turn pages on by its
    vector); `more` says whether a further page may follow."""
    page = page or settings.SEARCH_DEFAULT_TOP_K
    own = [row["id"] for row in turn.results]
    skip = max(0, shown - len(own))
    top_k = min(MAX_TOP_K, skip + page)
    if turn.query_vector is None or skip >= top_k:
        return HitsPage([], False)
    excluded = judged_ids(session, turn) | set(own)
    scope = SearchScope(top_k=top_k, exclude_ids=excluded, photo=PhotoFilters.from_json(turn.filters))
    hits = search_by_vector(np.asarray(turn.query_vector, dtype=np.float32), scope=scope, model_key=turn.model_key)
    return HitsPage(hits[skip:], more=len(hits) == top_k and top_k < MAX_TOP_K)
