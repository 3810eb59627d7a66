"""One real Celery worker, against the real Redis on 127.0.0.1:6379, runs a fetch job to the end.

The worker consumes queues named for this test run only, so other test runs sharing that Redis never take its
tasks; progress events travel through channels-redis on the same server.
"""

from __future__ import annotations

import asyncio
import socket
import uuid

import pytest
from asgiref.sync import async_to_sync
from celery import Celery
from celery.contrib.testing.worker import start_worker
from channels.layers import get_channel_layer

from search.models import Image, JobState
from search.services.fetch import fetch_job_create
from search.tasks.fetch import fetch_job_task

REDIS_HOST, REDIS_PORT = "127.0.0.1", 6379


def _redis_answers() -> bool:
    try:
        with socket.create_connection((REDIS_HOST, REDIS_PORT), timeout=1) as connection:
            connection.sendall(b"PING\r\n")
            return connection.recv(16).startswith(b"+PONG")
    except OSError:
        return False


pytestmark = [
    pytest.mark.slow,
    pytest.mark.django_db(transaction=True),  # the worker thread reads what the test committed
    pytest.mark.skipif(not _redis_answers(), reason=f"no Redis answering on {REDIS_HOST}:{REDIS_PORT}"),
    pytest.mark.usefixtures("background_settings", "caption_requests"),
]


@pytest.fixture
def redis_app(settings):
    run = uuid.uuid4().hex[:8]
    url = f"redis://{REDIS_HOST}:{REDIS_PORT}/0"
    settings.CHANNEL_LAYERS = {
        "default": {"BACKEND": "channels_redis.core.RedisChannelLayer", "CONFIG": {"hosts": [url], "prefix": run}}
    }
    app = Celery(f"integration-{run}", set_as_current=False)
    app.config_from_object("django.conf:settings", namespace="CELERY")
    app.conf.update(broker_url=url, result_backend=url, task_default_queue=f"default-{run}", task_routes={})
    app.loader.import_default_modules()
    yield app
    # start_worker makes its app the current one; later tests expect the project's app back.
    from imagesearch.celery import app as project_app

    project_app.set_current()


def test_a_real_worker_finishes_a_fetch_job(redis_app, local_web, fake_search, encoder):
    fake_search.urls = [local_web.url("/img/110.jpg"), local_web.url("/img/111.jpg"), local_web.url("/fake.jpg")]
    job = fetch_job_create(query="red pandas", count=5, enqueue=False)
    layer = get_channel_layer()
    channel = async_to_sync(layer.new_channel)()
    async_to_sync(layer.group_add)(f"job_{job.pk}", channel)

    with start_worker(redis_app, pool="solo", perform_ping_check=False, shutdown_timeout=30):
        result = redis_app.send_task("search.tasks.fetch.fetch_job_task", args=[job.pk])
        assert result.get(timeout=60) == JobState.SUCCEEDED

    job.refresh_from_db()
    assert (job.state, job.done, job.skipped) == (JobState.SUCCEEDED, 2, 1)
    assert Image.objects.count() == 2
    events = async_to_sync(_events_until_finished)(layer, channel)
    assert events[0]["event"] == "started"
    assert {"found", "downloaded", "skipped", "indexed"} <= {event["event"] for event in events}


async def _events_until_finished(layer, channel) -> list[dict]:
    # One event loop for every read: channels-redis buffers what it has read per loop.
    events: list[dict] = []
    async with asyncio.timeout(30):
        while not events or events[-1]["event"] != "finished":
            events.append((await layer.receive(channel))["event"])
    return events


def test_the_task_retries_transient_errors_with_backoff_under_a_time_limit(settings):
    assert fetch_job_task.max_retries == 5
    assert fetch_job_task.retry_backoff
    assert fetch_job_task.soft_time_limit == settings.CELERY_TASK_SOFT_TIME_LIMIT
    assert fetch_job_task.time_limit > fetch_job_task.soft_time_limit
