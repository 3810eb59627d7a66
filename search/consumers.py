"""Websockets: an open search session (refinement turns in, results and pushed events out) and a job's progress.

Routes (search/routing.py), behind AllowedHostsOriginValidator and Django's session auth (imagesearch/asgi.py):
  ws/sessions/<id>/  SessionConsumer: the session's owner only
  ws/jobs/<id>/      JobConsumer: the user who started the job, or staff
Anyone else is refused at the handshake (close code 4401 for anonymous clients, 4403 otherwise), like the 404 they
get over HTTP. Every message in is checked by JsonConsumer first: text, at most WS_MAX_MESSAGE_BYTES, at most
WS_RATE_LIMIT per WS_RATE_WINDOW seconds, JSON nested at most JSON_MAX_DEPTH deep, no NUL or unpaired surrogate in
any string. A message that fails gets {"type": "error", "message": "...", "field": "..."}; the socket stays open.

Session messages from the page (JSON objects):
  {"type": "turn", "key": "<idempotency key>", "parent": <turn id>?, "feedback": "...", "text": "...",
   "relevant": [ids], "not_relevant": [ids], "more_like": <image id>?, "show_judged": bool, "k": int,
   "image_weight": number?, "weights": {"alpha": .., "beta": .., ...},
   "query_image": <id of an image uploaded earlier in this session>?,
   "filters": {"mode": "hybrid"?, "taken_after": ISO date?, "camera": ..., ...}? (a new query's; refinements keep
   their parent's)}
  {"type": "sync", "turn": <id of the turn on screen>?}   after every (re)connect
  {"type": "ping"}
Replies: {"type": "turn", "key", "turn": {...}, "hits": [...], "results_html", "turns_html"} (the acknowledgement: a
turn sent again with the same key gets its existing turn, never a second one), {"type": "state", ...} (what the page
may have missed while it was disconnected: the turn list, the shown turn's rewrite, query-image captions, jobs),
{"type": "pong"}, or an error.

Pushing events to open pages (background jobs, LLM rewrites, ...) goes through search.pushes.
"""

from __future__ import annotations

import time
from collections import deque

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from django.conf import settings

from imagesearch.metrics import websocket_closed, websocket_opened
from search.errors import InvalidQuery
from search.models import Job, QueryImage, SearchSession, SearchTurn
from search.pushes import job_group, session_group
from search.query import PhotoFilters
from search.selectors.jobs import job_get_for_user, job_snapshot
from search.selectors.sessions import query_image_get, session_get_for_user, turn_hits, turn_to_refine
from search.services.sessions import turn_create
from search.untrusted import load_json
from search.views.sessions import turn_fragments

TURN_FIELDS = {"type", "key", "parent", "feedback", "text", "relevant", "not_relevant", "more_like", "show_judged"}
TURN_FIELDS |= {"k", "weights", "image_weight", "query_image", "filters"}


class JsonConsumer(AsyncJsonWebsocketConsumer):
    """A websocket for one object a user owns: joins its group on connect, checks every message it receives.

    Subclasses say how to find the object (`lookup`, raising DoesNotExist for a stranger) and its group, and handle
    the checked messages in `receive_json`.
    """

    async def connect(self) -> None:
        user = self.scope.get("user")
        if user is None or not user.is_authenticated:
            await self.close(code=4401)
            return
        try:
            self.target = await database_sync_to_async(self.lookup)(user, self.scope["url_route"]["kwargs"])
        except (SearchSession.DoesNotExist, Job.DoesNotExist):
            await self.close(code=4403)
            return
        self.group = self.group_name(self.target)
        self.sent_at: deque[float] = deque()
        await self.channel_layer.group_add(self.group, self.channel_name)
        await self.accept()
        self.counted = websocket_opened(type(self).__name__)
        await self.on_connected()

    def lookup(self, user, kwargs: dict):
        raise NotImplementedError

    def group_name(self, target) -> str:
        raise NotImplementedError

    async def on_connected(self) -> None:
        """Called once the socket is accepted; sends nothing by default."""

    async def disconnect(self, code: int) -> None:
        if getattr(self, "counted", False):
            websocket_closed(type(self).__name__)
        if hasattr(self, "group"):
            await self.channel_layer.group_discard(self.group, self.channel_name)

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        try:
            content = self.decode(text_data)
        except InvalidQuery as error:
            await self.send_error(error.message, field=error.field)
            return
        if not isinstance(content, dict) or not isinstance(content.get("type"), str):
            await self.send_error('A message is a JSON object with a "type".')
            return
        await self.receive_json(content)

    def decode(self, text_data: str | None) -> object:
        """The message's JSON, after every check; InvalidQuery says which one failed."""
        if text_data is None:
            raise InvalidQuery("Send JSON text messages, not binary ones.", field="message")
        limit = settings.WS_MAX_MESSAGE_BYTES
        if len(text_data) > limit or len(text_data.encode("utf-8", "surrogatepass")) > limit:
            raise InvalidQuery(f"The message is over {settings.WS_MAX_MESSAGE_BYTES:,} bytes.", field="message")
        if self._over_rate_limit():
            raise InvalidQuery("Too many messages; wait a few seconds.", field="rate")
        return load_json(text_data, max_depth=settings.JSON_MAX_DEPTH)

    def _over_rate_limit(self) -> bool:
        now = time.monotonic()
        while self.sent_at and now - self.sent_at[0] > settings.WS_RATE_WINDOW:
            self.sent_at.popleft()
        if len(self.sent_at) >= settings.WS_RATE_LIMIT:
            return True
        self.sent_at.append(now)
        return False

    async def send_error(self, message: str, *, field: str = "message", **extra) -> None:
        await self.send_json({"type": "error", "message": message, "field": field, **extra})


class SessionConsumer(JsonConsumer):
    def lookup(self, user, kwargs: dict) -> SearchSession:
        return session_get_for_user(user=user, session_id=kwargs["session_id"])

    def group_name(self, session: SearchSession) -> str:
        return session_group(session.pk)

    async def receive_json(self, content, **kwargs) -> None:
        if content["type"] == "ping":
            await self.send_json({"type": "pong"})
        elif content["type"] == "turn":
            await self._turn(content)
        elif content["type"] == "sync":
            await self.send_json(await database_sync_to_async(self._state)(content.get("turn")))
        else:
            await self.send_error(f"Unknown message type {content['type'][:40]!r}.")

    async def _turn(self, content: dict) -> None:
        key = content.get("key") or ""
        try:
            unknown = sorted(set(content) - TURN_FIELDS)
            if unknown:
                names = ", ".join(name[:40] for name in unknown[:5])
                raise InvalidQuery(f"Unknown field(s): {names}.", field="message")
            reply = await database_sync_to_async(self._create_turn)(content, key)
        except InvalidQuery as error:
            await self.send_error(error.message, field=error.field, key=key if isinstance(key, str) else "")
            return
        await self.send_json(reply)

    def _create_turn(self, content: dict, key: str) -> dict:
        session = SearchSession.objects.get(pk=self.target.pk)
        parent = _parent(session, content.get("parent"))
        query_image = query_image_get(session=session, query_image_id=content.get("query_image"))
        options = _turn_options(content)
        turn = turn_create(session=session, parent=parent, client_key=key, query_image=query_image, **options)
        return {"type": "turn", "key": key, **_turn_payload(session, turn)}

    def _state(self, shown_turn_id) -> dict:
        session = SearchSession.objects.get(pk=self.target.pk)
        latest = session.turns.order_by("-position").first()
        shown = session.turns.filter(pk=shown_turn_id).first() if isinstance(shown_turn_id, int) else None
        shown = shown or latest
        captions = QueryImage.objects.filter(session=session).exclude(caption="").values("id", "caption")
        jobs = Job.objects.filter(params__session_id=session.pk).order_by("-id")[:5]
        return {
            "type": "state",
            "latest": {"id": latest.pk, "position": latest.position} if latest else None,
            "turns_html": turn_fragments(session, shown)["turns_html"] if shown else "",
            "rewrite": _rewrite_event(shown) if shown is not None else None,
            "captions": [{"query_image_id": row["id"], "caption": row["caption"]} for row in captions],
            "jobs": [job_snapshot(job) for job in jobs],
        }

    async def session_event(self, message: dict) -> None:
        """Relay an event pushed to the session's group (search.pushes.session_push) to the page."""
        event = message.get("event")
        if isinstance(event, dict) and isinstance(event.get("type"), str):
            await self.send_json(event)


class JobConsumer(JsonConsumer):
    """ws/jobs/<id>/: on joining, the job as it stands ({"type": "job", "event": "snapshot", ...}), then every event
    the workers push (search.pushes.job_push): started, found, downloaded, skipped, failed, indexed, progress,
    finished, cancelled."""

    def lookup(self, user, kwargs: dict) -> Job:
        return job_get_for_user(user=user, job_id=kwargs["job_id"])

    def group_name(self, job: Job) -> str:
        return job_group(job.pk)

    async def on_connected(self) -> None:
        await self.send_json({**job_snapshot(self.target), "type": "job", "event": "snapshot"})

    async def receive_json(self, content, **kwargs) -> None:
        await self.send_error("This socket only sends job progress.")

    async def job_event(self, message: dict) -> None:
        await self.send_json({**message["event"], "type": "job"})


def _turn_payload(session: SearchSession, turn: SearchTurn) -> dict:
    # The page's own templates (turn_fragments), so a turn looks the same however it reached the page.
    return {
        "turn": {"id": turn.pk, "position": turn.position, "kind": turn.kind, "query_text": turn.query_text},
        "hits": [{"id": hit.id, "score": hit.score} for hit in turn_hits(turn)],
        **turn_fragments(session, turn),
    }


def _rewrite_event(turn: SearchTurn) -> dict | None:
    """The rewrite event the turn's page would have been pushed, once the rewrite is settled."""
    if not turn.rewrite or turn.rewrite.get("state") in (None, "pending"):
        return None
    return {"type": "rewrite", "turn_id": turn.pk, "position": turn.position, **turn.rewrite}


def _parent(session: SearchSession, parent_id) -> SearchTurn | None:
    if parent_id is not None and (isinstance(parent_id, bool) or not isinstance(parent_id, int)):
        raise InvalidQuery("parent must be a turn id.", field="parent")
    return turn_to_refine(session=session, turn_id=parent_id)


def _turn_options(content: dict) -> dict:
    """The message's fields under turn_create's names; their values are checked there (search.query.TurnRequest)."""
    return {
        "feedback": content.get("feedback") or "",
        "text": content.get("text") or "",
        "relevant_ids": content.get("relevant") or (),
        "not_relevant_ids": content.get("not_relevant") or (),
        "more_like_image_id": content.get("more_like"),
        "show_judged": content.get("show_judged") is True,
        "top_k": content.get("k") or settings.SEARCH_DEFAULT_TOP_K,
        "weights": content.get("weights") or None,
        "image_weight": content.get("image_weight"),
        **_filters(content.get("filters")),
    }


def _filters(value) -> dict:
    """A new query's mode and photo filters, as a turn stores them ({"mode": "hybrid", "camera": "pixel", ...}): the
    session page sends those of the turn on screen, so a search made again from it keeps to them."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise InvalidQuery("filters must be an object.", field="filters")
    try:
        photo = PhotoFilters.from_json({name: item for name, item in value.items() if name != "mode"})
    except (TypeError, ValueError) as error:
        raise InvalidQuery(f"filters: {error}", field="filters") from None
    return {"mode": value.get("mode") or "vector", "photo": photo}
