"""Hostile input against the served system: each gets its documented reply, and the server stays healthy.

API errors are the documented JSON body ({"detail", "errors"}) with its Content-Type, whatever failed: the parser,
the size limit, the multipart decoder or a field. Websocket messages that fail a check get an error message and the
socket stays open.
"""

from __future__ import annotations

import asyncio
import json

import aiohttp
import pytest

from tests.system.client import Browser, api_headers, http_session

DEEP = 5_000
POST_ENDPOINTS = ["/api/search/", "/api/search/captions/", "/api/encode/text/", "/api/encode/image/", "/api/sessions/"]


def _nested(depth: int) -> str:
    return '{"category": ' * depth + '""' + "}" * depth


API_CASES = [
    # (what, path, content type, body, expected status)
    (
        "filters nested 5,000 deep",
        "/api/search/",
        "application/json",
        f'{{"query": "x", "filters": {_nested(DEEP)}}}',
        400,
    ),
    ("a 12 MB JSON body", "/api/search/", "application/json", '{"query": "' + "a" * 12_000_000 + '"}', 413),
    ("a 1 MB JSON body", "/api/search/", "application/json", '{"query": "' + "a" * 1_000_000 + '"}', 413),
    ("a NUL byte in the query", "/api/search/", "application/json", '{"query": "red\\u0000circle"}', 400),
    ("a lone surrogate", "/api/search/", "application/json", '{"query": "red \\ud800 circle"}', 400),
    ("a lone surrogate in a key", "/api/search/", "application/json", '{"\\udfff": 1, "query": "x"}', 400),
    ("JSON that does not parse", "/api/search/", "application/json", "{not json", 400),
    ("an unsupported media type", "/api/search/", "text/plain", "red circle", 415),
    (
        "filters as a multipart string nested deep",
        "/api/search/",
        "multipart/form-data; boundary=b",
        f'--b\r\nContent-Disposition: form-data; name="filters"\r\n\r\n{_nested(DEEP)}\r\n--b--\r\n',
        400,
    ),
]
API_CASES += [
    (f"an empty multipart body on {path}", path, "multipart/form-data; boundary=b", "", 400) for path in POST_ENDPOINTS
]
API_CASES += [
    (f"a malformed multipart body on {path}", path, "multipart/form-data; boundary=b", "--b--\r\ngarbage", 400)
    for path in POST_ENDPOINTS
]
API_CASES += [("a multipart body without a boundary", "/api/search/", "multipart/form-data", "garbage", 400)]


@pytest.mark.parametrize(("what", "path", "content_type", "body", "status"), API_CASES, ids=[c[0] for c in API_CASES])
def test_hostile_api_requests_get_the_documented_json_error(system, what, path, content_type, body, status):
    async def send():
        async with http_session() as http:
            headers = api_headers(system, **{"Content-Type": content_type})
            data = body.encode("utf-8", "surrogatepass")
            async with http.post(f"{system.url}{path}", data=data, headers=headers) as response:
                return response.status, response.headers.get("Content-Type", ""), await response.read()

    got_status, got_type, raw = asyncio.run(send())

    if path == "/api/sessions/" and got_status == 201:  # an empty body is a valid "start a session" request
        return
    assert got_status == status, raw[:300]
    assert got_type.startswith("application/json")
    error = json.loads(raw)
    assert error["detail"] and error["errors"] and "Traceback" not in error["detail"]


def test_an_unknown_api_path_and_a_huge_page_post_get_plain_errors(system):
    async def send():
        async with http_session() as http:
            async with http.get(f"{system.url}/api/nothing-here/", headers=api_headers(system)) as response:
                api = (response.status, response.headers["Content-Type"], await response.json())
            async with http.post(f"{system.url}/", data=b"q=" + b"a" * 12_000_000) as response:
                page = (response.status, response.headers["Content-Type"], await response.text())
            return api, page

    api, page = asyncio.run(send())

    assert api[0] == 404 and api[1].startswith("application/json") and api[2]["errors"][0]["code"] == "not_found"
    assert page[0] == 413 and page[1].startswith("text/html") and "Traceback" not in page[2]


WS_CASES = [
    ("a NUL byte in the feedback", json.dumps({"type": "turn", "key": "k1", "feedback": "red\x00circle"}), "message"),
    ("a NUL byte in the text", json.dumps({"type": "turn", "key": "k2", "text": "blue\x00"}), "message"),
    ("a lone surrogate", '{"type": "turn", "key": "k3", "feedback": "red \\ud800"}', "message"),
    ("8,000-deep nesting", '{"type": "turn", "feedback": ' + "[" * 8000 + "]" * 8000 + "}", "message"),
    ("text that is not JSON", "{not json", "message"),
    ("a message that is too long", json.dumps({"type": "ping", "pad": "x" * 20_000}), "message"),
    ("an unknown field", json.dumps({"type": "turn", "key": "k4", "feedback": "red", "drop": 1}), "message"),
    ("a malformed key", json.dumps({"type": "turn", "key": "no spaces allowed", "feedback": "red"}), "key"),
]


def test_hostile_websocket_messages_get_an_error_and_the_socket_stays_open(system):
    job_id = (
        system.manage(
            "shell",
            "-c",
            "from django.contrib.auth.models import User; from search.models import Job, JobKind; "
            "print(Job.objects.create(kind=JobKind.FETCH, user=User.objects.get(username='system-tester'), "
            "query='pandas', params={'count': 1}).pk)",
        )
        .strip()
        .splitlines()[-1]
    )

    async def scenario():
        async with http_session() as http:
            browser = await Browser(system, http).login()
            session_id = await browser.start_session("a purple square")
            session = await browser.socket(f"/ws/sessions/{session_id}/")
            replies = {}
            for what, text, _ in WS_CASES:
                await session.send_str(text)
                replies[what] = await asyncio.wait_for(session.receive_json(), 30)
            await session.send_bytes(b"\x00\x01")
            replies["binary"] = await asyncio.wait_for(session.receive_json(), 30)
            await session.send_str('{"type": "ping"}')
            pong = await asyncio.wait_for(session.receive_json(), 30)
            job = await browser.socket(f"/ws/jobs/{job_id}/")
            snapshot = await asyncio.wait_for(job.receive_json(), 30)
            await job.send_str("{not json")
            job_reply = await asyncio.wait_for(job.receive_json(), 30)
            await job.send_str('{"type": "anything"}')
            job_second = await asyncio.wait_for(job.receive_json(), 30)
            open_after = (not session.closed, not job.closed)
            await session.close()
            await job.close()
            async with http.get(f"{system.url}/api/health/") as response:
                health = response.status
            return replies, pong, snapshot, job_reply, job_second, open_after, health

    replies, pong, snapshot, job_reply, job_second, open_after, health = asyncio.run(scenario())

    for what, _, field in WS_CASES:
        assert replies[what]["type"] == "error", what
        assert replies[what]["field"] == field, (what, replies[what])
    assert replies["binary"]["type"] == "error"
    assert pong == {"type": "pong"}
    assert snapshot["event"] == "snapshot"
    assert job_reply["type"] == "error" and job_second["type"] == "error"
    assert open_after == (True, True)
    assert health == 200
    assert "Traceback" not in system.stack.log("web")


def test_the_websocket_rate_limit_answers_with_errors_not_a_closed_socket(system):
    async def scenario():
        async with http_session() as http:
            browser = await Browser(system, http).login()
            session_id = await browser.start_session("an orange circle")
            socket = await browser.socket(f"/ws/sessions/{session_id}/")
            for _ in range(70):
                await socket.send_str('{"type": "ping"}')
            replies = [await asyncio.wait_for(socket.receive_json(), 30) for _ in range(70)]
            closed = socket.closed
            await socket.close()
            return replies, closed

    replies, closed = asyncio.run(scenario())

    assert [reply["type"] for reply in replies[:60]] == ["pong"] * 60
    assert {reply["field"] for reply in replies[60:]} == {"rate"}
    assert not closed


def test_the_server_is_healthy_after_the_hostile_input(system):
    async def check():
        async with aiohttp.ClientSession() as http, http.get(f"{system.url}/api/health/") as response:
            return response.status, await response.json()

    status, body = asyncio.run(check())
    assert status == 200 and body["status"] == "ok"
