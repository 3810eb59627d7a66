"""Both websockets (a session, a job) through the whole ASGI application: origin check, Django session auth, the
consumers. (tests/system drives them through the served stack, over Redis.)"""

from __future__ import annotations

import json

import pytest
from asgiref.sync import SyncToAsync, sync_to_async
from channels.db import database_sync_to_async
from channels.layers import get_channel_layer
from channels.testing import WebsocketCommunicator
from django.db import connections

from search.models import Job, JobKind
from search.services.jobs import job_announce, job_cancel
from search.services.sessions import session_create, turn_create

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.anyio]


PASSWORD = "a-long-test-passphrase-42"


@pytest.fixture
def anyio_backend():
    return "asyncio"


@pytest.fixture(autouse=True)
def in_memory_layer(settings):
    settings.CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}


@pytest.fixture(autouse=True)
def close_thread_connections():
    """database_sync_to_async keeps its thread's connection (CONN_MAX_AGE); close it so the test database can go."""
    yield
    SyncToAsync.single_thread_executor.submit(connections.close_all).result()


@pytest.fixture
def application(settings):
    settings.PRELOAD_ENCODER = False
    from imagesearch.asgi import application

    return application


@pytest.fixture
def session(user, collection):
    session = session_create(user=user)
    turn_create(session=session, text="a red circle", top_k=6)
    return session


def cookie_for(client, user) -> bytes:
    client.force_login(user)
    return f"sessionid={client.cookies['sessionid'].value}".encode()


@pytest.fixture
def cookie(client, user) -> bytes:
    """The Django session cookie of the session's user, logged in."""
    return cookie_for(client, user)


@pytest.fixture
def other_cookie(client, other_user) -> bytes:
    return cookie_for(client, other_user)


def socket(application, path: str, cookie: bytes | None = None, origin: bytes = b"http://localhost"):
    headers = [(b"origin", origin), (b"host", b"localhost")] + ([(b"cookie", cookie)] if cookie else [])
    return WebsocketCommunicator(application, path, headers=headers)


async def exchange(communicator: WebsocketCommunicator, message) -> dict:
    text = message if isinstance(message, str) else json.dumps(message)
    await communicator.send_to(text_data=text)
    return await communicator.receive_json_from(timeout=20)


async def test_anonymous_clients_are_refused(application, session):
    assert await socket(application, f"/ws/sessions/{session.pk}/").connect(timeout=10) == (False, 4401)


async def test_another_users_session_is_refused(application, other_cookie, session):
    communicator = socket(application, f"/ws/sessions/{session.pk}/", other_cookie)
    assert await communicator.connect(timeout=10) == (False, 4403)


async def test_a_foreign_origin_is_refused(application, cookie, session):
    communicator = socket(application, f"/ws/sessions/{session.pk}/", cookie, origin=b"https://evil.example")
    connected, _ = await communicator.connect(timeout=10)
    assert not connected


async def test_a_turn_over_the_socket_replies_with_the_new_results(application, cookie, session):
    communicator = socket(application, f"/ws/sessions/{session.pk}/", cookie)
    assert (await communicator.connect(timeout=10))[0]
    first = await database_sync_to_async(session.turns.get)()
    relevant = first.results[0]["id"]
    message = {"type": "turn", "parent": first.pk, "relevant": [relevant], "feedback": "no squares", "k": 5}
    reply = await exchange(communicator, message)
    await communicator.disconnect()
    assert reply["type"] == "turn" and reply["turn"]["position"] == 2
    second = await database_sync_to_async(session.turns.get)(position=2)
    assert [hit["id"] for hit in reply["hits"]] == [row["id"] for row in second.results]
    assert relevant not in [hit["id"] for hit in reply["hits"]] and len(reply["hits"]) == 5
    assert 'data-turn-position="2"' in reply["results_html"] and "no squares" in reply["turns_html"]


@pytest.mark.parametrize(
    ("message", "error"),
    [
        ("{not json", "not valid JSON"),
        ("[1, 2]", 'with a "type"'),
        ({"type": "dance"}, "Unknown message type"),
        ({"type": "turn", "feedback": "red", "sneaky": 1}, "Unknown field"),
        ({"type": "turn", "relevant": "all"}, "list of image ids"),
        ({"type": "turn", "relevant": [987654321]}, "No searchable image"),
        ({"type": "turn", "feedback": 5}, "must be a string"),
        ({"type": "turn", "parent": 987654321, "feedback": "red"}, "not part of this session"),
        ({"type": "turn", "feedback": "red", "weights": [1]}, "weights must be"),
        ({"type": "turn"}, "Refine with feedback"),
        ({"type": "turn", "feedback": "x" * 20000}, "bytes"),
    ],
)
async def test_bad_messages_get_an_error_and_the_socket_stays_open(application, cookie, session, message, error):
    communicator = socket(application, f"/ws/sessions/{session.pk}/", cookie)
    await communicator.connect(timeout=10)
    reply = await exchange(communicator, message)
    assert reply["type"] == "error" and error in reply["message"]
    assert await exchange(communicator, {"type": "ping"}) == {"type": "pong"}
    await communicator.disconnect()
    assert await database_sync_to_async(session.turns.count)() == 1


async def test_binary_messages_get_an_error(application, cookie, session):
    communicator = socket(application, f"/ws/sessions/{session.pk}/", cookie)
    await communicator.connect(timeout=10)
    await communicator.send_to(bytes_data=b"\x00\x01")
    assert "JSON text" in (await communicator.receive_json_from(timeout=10))["message"]
    await communicator.disconnect()


async def test_too_many_messages_are_refused_for_a_while(application, cookie, session, settings):
    settings.WS_RATE_LIMIT, settings.WS_RATE_WINDOW = 3, 60.0
    communicator = socket(application, f"/ws/sessions/{session.pk}/", cookie)
    await communicator.connect(timeout=10)
    replies = [(await exchange(communicator, {"type": "ping"}))["type"] for _ in range(4)]
    await communicator.disconnect()
    assert replies == ["pong", "pong", "pong", "error"]


async def test_events_sent_to_the_session_group_reach_the_page(application, cookie, session):
    communicator = socket(application, f"/ws/sessions/{session.pk}/", cookie)
    await communicator.connect(timeout=10)
    event = {"type": "rewrite", "turn": 1, "text": "a crimson disc"}
    await get_channel_layer().group_send(f"session_{session.pk}", {"type": "session.event", "event": event})
    assert await communicator.receive_json_from(timeout=10) == event
    await communicator.disconnect()


@pytest.fixture
def job(user):
    return Job.objects.create(kind=JobKind.FETCH, user=user, query="red pandas", params={"count": 5}, total=7)


def _job_socket(application, job, cookie=None):
    return socket(application, f"/ws/jobs/{job.pk}/", cookie)


async def test_the_owner_gets_the_job_then_its_events(application, client, user, job):
    communicator = _job_socket(application, job, await sync_to_async(cookie_for)(client, user))
    connected, _ = await communicator.connect()
    assert connected
    snapshot = await communicator.receive_json_from(timeout=10)
    assert (snapshot["type"], snapshot["event"], snapshot["total"], snapshot["state"]) == (
        "job",
        "snapshot",
        7,
        "pending",
    )

    await sync_to_async(job_announce)(job, "skipped", url="http://e.com/a.jpg", reason="HTTP 404")
    event = await communicator.receive_json_from(timeout=10)
    assert (event["type"], event["event"], event["url"], event["reason"]) == (
        "job",
        "skipped",
        "http://e.com/a.jpg",
        "HTTP 404",
    )
    await communicator.disconnect()


async def test_staff_may_watch_any_job(application, client, django_user_model, job):
    staff = await sync_to_async(django_user_model.objects.create_user)("boss", password=PASSWORD, is_staff=True)
    communicator = _job_socket(application, job, await sync_to_async(cookie_for)(client, staff))
    assert (await communicator.connect())[0]
    await communicator.disconnect()


async def test_another_user_is_refused_a_job(application, client, django_user_model, job):
    other = await sync_to_async(django_user_model.objects.create_user)("mallory", password=PASSWORD)
    communicator = _job_socket(application, job, await sync_to_async(cookie_for)(client, other))
    connected, code = await communicator.connect()
    assert (connected, code) == (False, 4403)


async def test_anonymous_clients_are_refused_a_job(application, job):
    connected, code = await _job_socket(application, job).connect()
    assert (connected, code) == (False, 4401)


async def test_messages_from_the_page_get_an_error(application, client, user, job):
    communicator = _job_socket(application, job, await sync_to_async(cookie_for)(client, user))
    await communicator.connect()
    await communicator.receive_json_from(timeout=10)
    await communicator.send_json_to({"type": "cancel"})
    assert (await communicator.receive_json_from(timeout=10))["type"] == "error"
    assert get_channel_layer() is not None
    await communicator.disconnect()


async def test_a_cancel_reaches_the_page_with_the_cancelled_state(application, client, user, job):
    communicator = _job_socket(application, job, await sync_to_async(cookie_for)(client, user))
    await communicator.connect()
    await communicator.receive_json_from(timeout=10)
    assert await sync_to_async(job_cancel)(job=job, user=user)
    event = await communicator.receive_json_from(timeout=10)
    assert (event["type"], event["event"], event["state"]) == ("job", "cancelled", "cancelled")
    assert event["message"].startswith("Cancelled by alice.")
    await communicator.disconnect()


async def test_open_sockets_are_counted_for_the_metrics(application, cookie, session):
    from imagesearch.metrics import WEBSOCKETS

    gauge = WEBSOCKETS.labels("SessionConsumer")
    before = gauge._value.get()
    communicator = socket(application, f"/ws/sessions/{session.pk}/", cookie)
    assert (await communicator.connect(timeout=10))[0]
    opened = gauge._value.get()
    await communicator.disconnect()
    assert (opened - before, gauge._value.get() - before) == (1, 0)


async def test_a_search_made_again_from_the_page_keeps_to_the_filters_it_sends(application, cookie, session):
    communicator = socket(application, f"/ws/sessions/{session.pk}/", cookie)
    assert (await communicator.connect(timeout=10))[0]
    filters = {"mode": "hybrid", "camera": "pixel", "taken_after": "2024-06-01T00:00:00+00:00"}
    reply = await exchange(communicator, {"type": "turn", "text": "a red circle", "filters": filters})
    refused = await exchange(communicator, {"type": "turn", "text": "a red circle", "filters": {"taken_after": "x"}})
    await communicator.disconnect()
    turn = await database_sync_to_async(session.turns.get)(position=2)
    assert reply["type"] == "turn" and turn.filters == filters
    assert refused["type"] == "error" and refused["field"] == "filters"
