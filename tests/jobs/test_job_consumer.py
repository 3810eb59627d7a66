"""The job websocket through the whole ASGI stack: only the job's owner (or staff) hears its progress."""

from __future__ import annotations

import os

import pytest
from asgiref.sync import sync_to_async
from channels.layers import get_channel_layer
from channels.testing import WebsocketCommunicator

from search.models import Job, JobKind
from search.services.jobs import job_announce, job_cancel

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.anyio]
PASSWORD = "a-long-test-passphrase-42"


@pytest.fixture
def anyio_backend():
    return "asyncio"


@pytest.fixture
def application():
    os.environ.setdefault("IMAGESEARCH_PRELOAD_ENCODER", "0")
    from imagesearch.asgi import application

    return application


@pytest.fixture
def owner(django_user_model):
    return django_user_model.objects.create_user(username="ann", password=PASSWORD)


@pytest.fixture
def job(owner):
    return Job.objects.create(kind=JobKind.FETCH, user=owner, query="red pandas", params={"count": 5}, total=7)


def _cookie(client, user) -> bytes:
    client.force_login(user)
    return f"sessionid={client.cookies['sessionid'].value}".encode()


def _socket(application, job, cookie=None):
    headers = [(b"origin", b"http://localhost"), (b"host", b"localhost")] + ([(b"cookie", cookie)] if cookie else [])
    return WebsocketCommunicator(application, f"/ws/jobs/{job.pk}/", headers=headers)


async def test_the_owner_gets_the_job_then_its_events(application, client, owner, job):
    communicator = _socket(application, job, await sync_to_async(_cookie)(client, owner))
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
    communicator = _socket(application, job, await sync_to_async(_cookie)(client, staff))
    assert (await communicator.connect())[0]
    await communicator.disconnect()


async def test_another_user_is_refused(application, client, django_user_model, job):
    other = await sync_to_async(django_user_model.objects.create_user)("mallory", password=PASSWORD)
    communicator = _socket(application, job, await sync_to_async(_cookie)(client, other))
    connected, code = await communicator.connect()
    assert (connected, code) == (False, 4403)


async def test_anonymous_clients_are_refused(application, job):
    connected, code = await _socket(application, job).connect()
    assert (connected, code) == (False, 4401)


async def test_messages_from_the_page_get_an_error(application, client, owner, job):
    communicator = _socket(application, job, await sync_to_async(_cookie)(client, owner))
    await communicator.connect()
    await communicator.receive_json_from(timeout=10)
    await communicator.send_json_to({"type": "cancel"})
    assert (await communicator.receive_json_from(timeout=10))["type"] == "error"
    assert get_channel_layer() is not None
    await communicator.disconnect()


async def test_a_cancel_reaches_the_page_with_the_cancelled_state(application, client, owner, job):
    communicator = _socket(application, job, await sync_to_async(_cookie)(client, owner))
    await communicator.connect()
    await communicator.receive_json_from(timeout=10)
    assert await sync_to_async(job_cancel)(job=job, user=owner)
    event = await communicator.receive_json_from(timeout=10)
    assert (event["type"], event["event"], event["state"]) == ("job", "cancelled", "cancelled")
    assert event["message"].startswith("Cancelled by ann.")
    await communicator.disconnect()
