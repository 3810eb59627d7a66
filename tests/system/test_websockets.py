"""Websockets of the served system: idle sockets stay open, and refinements survive dropped connections."""

from __future__ import annotations

import asyncio
import json
import time
import uuid

import aiohttp

from tests.system.client import Browser, api_headers, http_session

IDLE_SECONDS = 30


async def _exchange(socket: aiohttp.ClientWebSocketResponse, message: dict, *, until: str) -> dict:
    """Send `message` and read replies until one of type `until` (or an error) comes back."""
    await socket.send_str(json.dumps(message))
    while True:
        reply = await asyncio.wait_for(socket.receive_json(), timeout=30)
        if reply["type"] in (until, "error"):
            return reply


def test_idle_sockets_still_answer_after_half_a_minute(system):
    """redis-py 8's 5 s read timeout used to close every idle session socket with 1011 within seconds."""

    async def scenario():
        async with http_session() as http:
            browser = await Browser(system, http).login()
            session_id = await browser.start_session("a large red circle")
            sockets = [await browser.socket(f"/ws/sessions/{session_id}/") for _ in range(3)]
            started = time.monotonic()
            await asyncio.sleep(IDLE_SECONDS)
            replies = [await _exchange(socket, {"type": "ping"}, until="pong") for socket in sockets]
            closed = [socket.closed for socket in sockets]
            for socket in sockets:
                await socket.close()
            return time.monotonic() - started, replies, closed

    waited, replies, closed = asyncio.run(scenario())

    assert waited >= IDLE_SECONDS
    assert replies == [{"type": "pong"}] * 3
    assert closed == [False] * 3
    assert "Timeout reading" not in system.stack.log("web")


def test_turns_sent_across_forced_reconnects_are_each_recorded_once(system):
    """Every other turn is sent and its socket dropped before the answer; the page sends it again under the same
    key on a new socket, as session.js does. Twenty turns, twenty-one in the session (with the first query)."""
    feedback = [f"more like number {n}" for n in range(20)]

    async def scenario():
        async with http_session() as http:
            browser = await Browser(system, http).login()
            session_id = await browser.start_session("a small blue square")
            path = f"/ws/sessions/{session_id}/"
            answered = {}
            for n, text in enumerate(feedback):
                message = {"type": "turn", "key": uuid.uuid4().hex, "feedback": text}
                socket = await browser.socket(path)
                if n % 2:
                    await socket.send_str(json.dumps(message))
                    await socket.close()  # gone before the answer: the page reconnects and resends
                    socket = await browser.socket(path)
                    await _exchange(socket, {"type": "sync"}, until="state")
                reply = await _exchange(socket, message, until="turn")
                again = await _exchange(socket, message, until="turn")  # a duplicate delivery
                answered[message["key"]] = (reply["turn"]["id"], again["turn"]["id"])
                await socket.close()
            async with http.get(f"{system.url}/api/sessions/{session_id}/", headers=api_headers(system)) as response:
                return answered, await response.json()

    answered, session = asyncio.run(scenario())

    assert all(first == again for first, again in answered.values())
    assert len({first for first, _ in answered.values()}) == 20
    turns = session["turns"]
    assert len(turns) == 21
    assert [turn["text"] for turn in turns[1:]] == feedback
