"""Fetch jobs end to end against the local web: indexed, deduplicated, tagged, resumable, reported live."""

import pytest
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from ddgs.exceptions import RatelimitException

from search.errors import InvalidQuery
from search.models import Image, ImageSource, Job, JobItemState, JobState, SearchSession
from search.services import fetch as fetch_service
from search.services.fetch import fetch_job_create, fetch_job_run
from search.tasks.fetch import fetch_job_task
from search.webfetch.download import DownloadLimits

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("background_settings", "caption_requests")]

LIMITS = DownloadLimits(concurrency=4, timeout=1.0, max_bytes=200_000, max_redirects=3, user_agent="test")


def _job(**fields) -> Job:
    return fetch_job_create(enqueue=False, **{"query": "red pandas", "count": 10, **fields})


def _run(job, encoder):
    return fetch_job_run(job.pk, encoder=encoder, limits=LIMITS)


def _reasons(job):
    return dict(job.items.exclude(state=JobItemState.DONE).values_list("source", "reason"))


def test_good_images_are_indexed_with_source_and_category(local_web, fake_search, encoder):
    fake_search.urls = [local_web.url(f"/img/{n}.jpg") for n in range(3)]
    job = _run(_job(), encoder)
    assert (job.state, job.total, job.done, job.skipped, job.failed) == (JobState.SUCCEEDED, 3, 3, 0, 0)
    images = Image.objects.order_by("source_url")
    assert [i.source_url for i in images] == fake_search.urls
    assert {(i.source, i.category, i.embedding_model) for i in images} == {
        (ImageSource.WEB, "red pandas", encoder.model_key)
    }
    assert job.message == "3 indexed, 0 skipped, 0 failed"


def test_a_given_category_wins_over_the_query(local_web, fake_search, encoder):
    fake_search.urls = [local_web.url("/img/4.jpg")]
    _run(_job(category="animals"), encoder)
    assert Image.objects.get().category == "animals"


def test_every_bad_result_is_skipped_with_its_reason(local_web, fake_search, encoder):
    fake_search.urls = [
        local_web.url("/img/5.jpg"),
        local_web.url("/fake.jpg"),
        local_web.url("/bomb.png"),
        local_web.url("/huge-streamed.jpg"),
        local_web.url("/page.html"),
        local_web.url("/redirect?to=http://10.0.0.8/a.jpg"),
        f"http://localhost:{local_web.port}/img/6.jpg",
    ]
    job = _run(_job(), encoder)
    reasons = _reasons(job)
    assert (job.done, job.skipped) == (1, 6)
    assert "not an image that can be read" in reasons[local_web.url("/fake.jpg")]
    assert "decompression bomb" in reasons[local_web.url("/bomb.png")]
    assert "more than 200,000 bytes" in reasons[local_web.url("/huge-streamed.jpg")]
    assert reasons[local_web.url("/page.html")] == "content type text/html is not an image"
    assert "10.0.0.8 is a private address" in reasons[local_web.url("/redirect?to=http://10.0.0.8/a.jpg")]
    assert "loopback" in reasons[f"http://localhost:{local_web.port}/img/6.jpg"]
    assert Image.objects.count() == 1


def test_the_same_content_is_stored_once(local_web, fake_search, encoder):
    fake_search.urls = [local_web.url("/same/a.jpg"), local_web.url("/same/b.jpg")]
    job = _run(_job(), encoder)
    assert (job.done, job.skipped, Image.objects.count()) == (1, 1, 1)
    assert list(_reasons(job).values()) == ["same content as another item of this job"]

    again = _run(_job(query="teal squares"), encoder)
    assert (again.done, again.skipped, Image.objects.count()) == (0, 2, 1)
    assert set(_reasons(again).values()) == {"already indexed"}
    assert set(again.items.values_list("image", flat=True)) == {Image.objects.get().pk}


def test_it_stops_once_enough_images_are_indexed(local_web, fake_search, encoder):
    fake_search.urls = [local_web.url(f"/img/{n}.jpg") for n in range(10, 22)]
    job = _run(_job(count=4), encoder)
    assert (job.done, job.total) == (4, 12)
    assert job.skipped == 8
    assert set(_reasons(job).values()) == {"not needed: enough images indexed"}
    assert fake_search.calls == [("red pandas", 4 * 2 + 10)]


def test_running_a_finished_job_again_does_nothing(local_web, fake_search, encoder):
    fake_search.urls = [local_web.url(f"/img/{n}.jpg") for n in range(30, 33)]
    job = _run(_job(), encoder)
    hits = sum(local_web.hits.values())
    again = _run(job, encoder)
    assert (again.state, again.done, Image.objects.count()) == (JobState.SUCCEEDED, 3, 3)
    assert sum(local_web.hits.values()) == hits


def test_a_job_that_died_half_way_resumes_where_it_stopped(local_web, fake_search, encoder, monkeypatch):
    fake_search.urls = [local_web.url(f"/img/{n}.jpg") for n in range(40, 46)]
    job = _job(count=6)
    real_store = fetch_service.job_items_ingest
    calls = []

    def dies_on_second_chunk(*args, **kwargs):
        calls.append(1)
        if len(calls) == 2:
            raise ConnectionError("worker lost")
        return real_store(*args, **kwargs)

    monkeypatch.setattr(fetch_service, "job_items_ingest", dies_on_second_chunk)
    monkeypatch.setattr(fetch_service, "_next_chunk", lambda job, limits: list(job.items.filter(state="pending")[:3]))
    with pytest.raises(ConnectionError):
        _run(job, encoder)
    job.refresh_from_db()
    assert (job.state, Image.objects.count(), job.items.filter(state=JobItemState.PENDING).count()) == ("running", 3, 3)

    monkeypatch.setattr(fetch_service, "job_items_ingest", real_store)
    job = _run(job, encoder)
    assert (job.state, job.done, Image.objects.count()) == (JobState.SUCCEEDED, 6, 6)
    assert len(fake_search.calls) == 1  # the candidates were found once and kept
    assert all(local_web.hits[f"/img/{n}.jpg"] == 1 for n in range(40, 43))  # done items are not fetched again


def test_a_rate_limit_fails_the_job_and_says_so(fake_search, encoder, settings):
    settings.DDG_RETRIES = 1
    fake_search.failures = [RatelimitException("202 Ratelimit")] * 2
    job = _run(_job(), encoder)
    assert job.state == JobState.FAILED
    assert job.message.startswith("DuckDuckGo is rate-limiting image searches")
    assert Image.objects.count() == 0


def test_the_task_runs_the_job(local_web, fake_search, encoder):
    fake_search.urls = [local_web.url("/img/50.jpg")]
    job = _job()
    result = fetch_job_task.apply(args=[job.pk])
    assert result.get() == JobState.SUCCEEDED
    job.refresh_from_db()
    assert (job.done, job.task_id) == (1, result.id)


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"query": "  "}, "query"),
        ({"query": "x" * 201}, "query"),
        ({"count": 0}, "count"),
        ({"count": 10_000}, "count"),
    ],
)
def test_bad_requests_are_refused_before_any_row(fields, field):
    with pytest.raises(InvalidQuery) as error:
        _job(**fields)
    assert error.value.field == field
    assert not Job.objects.exists()


@pytest.mark.django_db(transaction=True)  # events follow commits, as in a worker
def test_progress_events_reach_the_job_and_the_session(local_web, fake_search, encoder, django_user_model):
    user = django_user_model.objects.create_user("ann", password="pw-123456789")
    session = SearchSession.objects.create(user=user)
    fake_search.urls = [local_web.url("/img/60.jpg"), local_web.url("/fake.jpg")]
    job = fetch_job_create(query="red pandas", count=5, user=user, session_id=session.pk, enqueue=False)
    layer = get_channel_layer()
    job_channel = async_to_sync(layer.new_channel)()
    session_channel = async_to_sync(layer.new_channel)()
    async_to_sync(layer.group_add)(f"job_{job.pk}", job_channel)
    async_to_sync(layer.group_add)(f"session_{session.pk}", session_channel)

    _run(job, encoder)

    job_events = [m["event"] for m in _received(layer, job_channel)]
    kinds = [e["event"] for e in job_events]
    assert kinds[:2] == ["started", "found"]
    assert kinds[-1] == "finished"
    assert {"downloaded", "skipped", "indexed"} <= set(kinds)
    skipped = next(e for e in job_events if e["event"] == "skipped")
    assert skipped["url"] == local_web.url("/fake.jpg") and "not an image" in skipped["reason"]
    indexed = next(e for e in job_events if e["event"] == "indexed")
    assert indexed["image"] == Image.objects.get().pk
    assert job_events[-1]["processed"] == job_events[-1]["total"] == 2

    session_messages = _received(layer, session_channel)
    assert {m["type"] for m in session_messages} == {"session.event"}
    assert [m["event"]["event"] for m in session_messages] == kinds
    assert {m["event"]["type"] for m in session_messages} == {"job"}


def _received(layer, channel):
    messages = []
    while True:
        try:
            messages.append(async_to_sync(_receive_soon)(layer, channel))
        except TimeoutError:
            return messages


async def _receive_soon(layer, channel):
    import asyncio

    async with asyncio.timeout(0.2):
        return await layer.receive(channel)


def test_new_images_are_sent_to_captioning(
    local_web, fake_search, encoder, caption_requests, django_capture_on_commit_callbacks
):
    fake_search.urls = [local_web.url("/img/90.jpg"), local_web.url("/img/91.jpg")]
    with django_capture_on_commit_callbacks(execute=True):
        _run(_job(), encoder)
    assert caption_requests == [sorted(Image.objects.values_list("id", flat=True))]
