"""The websocket of an open search session: refinement turns in, results (and pushed events) out.

Route: ws/sessions/<id>/ (search/routing.py), behind AllowedHostsOriginValidator and the Django session auth in
imagesearch/asgi.py. Only the session's owner may join; anyone else is refused at the handshake (close code 4403,
4401 for anonymous clients), like the 404 they get over HTTP.

Messages from the page (JSON objects):
  {"type": "turn", "parent": <turn id>?, "feedback": "...", "text": "...", "relevant": [ids], "not_relevant": [ids],
   "more_like": <image id>?, "show_judged": bool, "k": int, "weights": {"alpha": .., "beta": .., ...}}
  {"type": "ping"}
Replies: {"type": "turn", "turn": {...}, "hits": [...], "results_html": "...", "turns_html": "..."},
  {"type": "pong"}, or {"type": "error", "message": "...", "field": "..."} for a malformed, oversized, refused or
  too-frequent message (the socket stays open).

Pushing events to open pages (background jobs, LLM rewrites, ...): every connection joins the group
`session_<id>`, and relays whatever `event` dict arrives in a "session.event" message, e.g.

    async_to_sync(get_channel_layer().group_send)(
        f"session_{session_id}", {"type": "session.event", "event": {"type": "rewrite", "turn": 3, "text": "..."}}
    )

reaches the page as {"type": "rewrite", "turn": 3, "text": "..."}. The event needs a string "type".
"""

from __future__ import annotations

import json
import time
from collections import deque

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from django.conf import settings

from search.models import SearchSession
from search.selectors import InvalidQuery
from search.selectors_sessions import session_get_for_user
from search.services.sessions import turn_create, turn_hits

TURN_FIELDS = {"type", "parent", "feedback", "text", "relevant", "not_relevant", "more_like", "show_judged", "k"}
TURN_FIELDS |= {"weights", "image_weight"}


def session_group(session_id: int) -> str:
    return f"session_{session_id}"


class SessionConsumer(AsyncJsonWebsocketConsumer):
    async def connect(self) -> None:
        user = self.scope.get("user")
        if user is None or not user.is_authenticated:
            await self.close(code=4401)
            return
        try:
            self.session = await database_sync_to_async(session_get_for_user)(
                user=user, session_id=self.scope["url_route"]["kwargs"]["session_id"]
            )
        except SearchSession.DoesNotExist:
            await self.close(code=4403)
            return
        self.group = session_group(self.session.pk)
        self.sent_at: deque[float] = deque()
        await self.channel_layer.group_add(self.group, self.channel_name)
        await self.accept()

    async def disconnect(self, code: int) -> None:
        if hasattr(self, "group"):
            await self.channel_layer.group_discard(self.group, self.channel_name)

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        if text_data is None:
            await self.send_error("Send JSON text messages, not binary ones.")
            return
        if len(text_data.encode()) > settings.WS_MAX_MESSAGE_BYTES:
            await self.send_error(f"The message is over {settings.WS_MAX_MESSAGE_BYTES:,} bytes.")
            return
        if self._over_rate_limit():
            await self.send_error("Too many messages; wait a few seconds.", field="rate")
            return
        try:
            content = json.loads(text_data)
        except ValueError:
            await self.send_error("The message is not valid JSON.")
            return
        await self.receive_json(content)

    def _over_rate_limit(self) -> bool:
        now = time.monotonic()
        while self.sent_at and now - self.sent_at[0] > settings.WS_RATE_WINDOW:
            self.sent_at.popleft()
        if len(self.sent_at) >= settings.WS_RATE_LIMIT:
            return True
        self.sent_at.append(now)
        return False

    async def receive_json(self, content, **kwargs) -> None:
        if not isinstance(content, dict) or not isinstance(content.get("type"), str):
            await self.send_error('A message is a JSON object with a "type".')
        elif content["type"] == "ping":
            await self.send_json({"type": "pong"})
        elif content["type"] == "turn":
            await self._turn(content)
        else:
            await self.send_error(f"Unknown message type {content['type'][:40]!r}.")

    async def _turn(self, content: dict) -> None:
        unknown = sorted(set(content) - TURN_FIELDS)
        if unknown:
            await self.send_error(f"Unknown field(s): {', '.join(name[:40] for name in unknown[:5])}.")
            return
        try:
            reply = await database_sync_to_async(self._create_turn)(content)
        except InvalidQuery as error:
            await self.send_error(error.message, field=error.field)
            return
        await self.send_json(reply)

    def _create_turn(self, content: dict) -> dict:
        from search.views import turn_fragments  # the page's own templates, so both paths render alike

        session = SearchSession.objects.get(pk=self.session.pk)
        turn = turn_create(session=session, parent=_parent(session, content.get("parent")), **_turn_options(content))
        hits = turn_hits(turn)
        return {
            "type": "turn",
            "turn": {"id": turn.pk, "position": turn.position, "kind": turn.kind, "query_text": turn.query_text},
            "hits": [{"id": hit.id, "score": hit.score} for hit in hits],
            **turn_fragments(session, turn),
        }

    async def session_event(self, message: dict) -> None:
        """Relay an event pushed to the group `session_<id>` (see the module docstring) to the page."""
        event = message.get("event")
        if isinstance(event, dict) and isinstance(event.get("type"), str):
            await self.send_json(event)

    async def send_error(self, message: str, *, field: str = "message") -> None:
        await self.send_json({"type": "error", "message": message, "field": field})


def _parent(session: SearchSession, parent_id):
    if parent_id is None:
        return None
    if isinstance(parent_id, bool) or not isinstance(parent_id, int):
        raise InvalidQuery("parent must be a turn id.", field="parent")
    parent = session.turns.filter(pk=parent_id).first()
    if parent is None:
        raise InvalidQuery("That turn is not part of this session.", field="parent")
    return parent


def _turn_options(content: dict) -> dict:
    options = {
        "feedback": _string(content, "feedback"),
        "text": _string(content, "text"),
        "relevant_ids": _list(content, "relevant"),
        "not_relevant_ids": _list(content, "not_relevant"),
        "more_like_image_id": content.get("more_like"),
        "show_judged": content.get("show_judged") is True,
        "top_k": content.get("k") or settings.SEARCH_DEFAULT_TOP_K,
        "weights": content.get("weights") or None,
    }
    image_weight = content.get("image_weight")
    if image_weight is not None and (isinstance(image_weight, bool) or not isinstance(image_weight, int | float)):
        raise InvalidQuery("image_weight must be a number.", field="image_weight")
    if options["weights"] is not None and not isinstance(options["weights"], dict):
        raise InvalidQuery("weights must be an object of numbers.", field="weights")
    return {**options, "image_weight": image_weight}


def _string(content: dict, name: str) -> str:
    value = content.get(name) or ""
    if not isinstance(value, str):
        raise InvalidQuery(f"{name} must be a string.", field=name)
    return value


def _list(content: dict, name: str) -> list:
    value = content.get(name) or []
    if not isinstance(value, list):
        raise InvalidQuery(f"{name} must be a list of image ids.", field=name)
    return value
