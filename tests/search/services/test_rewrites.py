"""LLM rewrites of session turns: queued after the first results, stored on the turn, pushed over the websocket."""

import pytest
from asgiref.sync import async_to_sync
from celery.exceptions import SoftTimeLimitExceeded
from channels.layers import get_channel_layer
from channels.testing import WebsocketCommunicator

from imagesearch.celery import app as project_celery_app
from search import language
from search.consumers import SessionConsumer
from search.models import SearchTurn
from search.services import rewrites
from search.services.sessions import session_create, turn_create
from search.tasks import language as language_tasks
from search.tasks.language import rewrite_turn_task
from tests.factories import image_row, unit_vector


@pytest.fixture(autouse=True)
def in_memory_channel_layer(settings):
    settings.CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}


@pytest.fixture
def collection(encoder):
    return [image_row(vector=unit_vector(encoder.dim, seed), model_key=encoder.model_key) for seed in range(12)]


@pytest.fixture
def user(django_user_model):
    return django_user_model.objects.create_user(username="rewriter", password="a-long-test-passphrase-42")


@pytest.fixture
def queued(monkeypatch):
    """Tasks queued for the broker, recorded instead of sent, so the test decides when the worker runs them."""
    calls = []
    monkeypatch.setattr(rewrite_turn_task, "apply_async", lambda args, **options: calls.append(args))
    return calls


def listen(session_id):
    layer = get_channel_layer()
    channel = async_to_sync(layer.new_channel)()
    async_to_sync(layer.group_add)(f"session_{session_id}", channel)
    return lambda: async_to_sync(layer.receive)(channel)


@pytest.mark.django_db
def test_a_rewrite_is_stored_searched_and_pushed(collection, user, encoder, scripted):
    session = session_create(user=user)
    turn = turn_create(session=session, text="can you show me red circles?", top_k=5, encoder=encoder)
    receive = listen(session.pk)

    payload = rewrites.turn_rewrite(turn.pk, model=scripted("a red circle"), encoder=encoder)

    turn.refresh_from_db()
    assert turn.rewrite == payload
    assert (payload["text"], payload["original"], payload["state"]) == ("a red circle", turn.query_text, "done")
    assert len(payload["results"]) == 5 and payload["applied"] is True
    assert turn.query_text == "can you show me red circles?"  # the user's own query is kept, for undo
    message = receive()
    assert message["type"] == "session.event"
    assert message["event"]["type"] == "rewrite" and message["event"]["turn_id"] == turn.pk
    assert [hit["id"] for hit in message["event"]["hits"]] == [row["id"] for row in payload["results"]]


@pytest.mark.django_db
def test_a_refused_answer_keeps_the_query_and_says_why(collection, user, encoder, scripted):
    session = session_create(user=user)
    turn = turn_create(session=session, text="show me cats", top_k=5, encoder=encoder)

    payload = rewrites.turn_rewrite(turn.pk, model=scripted("first line\nsecond line"), encoder=encoder)

    assert payload["state"] == "fallback" and payload["text"] == "show me cats" and payload["results"] == []
    assert "lines" in payload["reason"]


@pytest.mark.django_db
def test_feedback_turns_merge_the_parent_query_and_the_feedback(collection, user, encoder, scripted):
    session = session_create(user=user)
    first = turn_create(session=session, text="a forest with a lake", top_k=5, encoder=encoder)
    second = turn_create(session=session, parent=first, feedback="remove the trees", top_k=5, encoder=encoder)
    model = scripted("a lake")

    payload = rewrites.turn_rewrite(second.pk, model=model, encoder=encoder)

    assert payload["kind"] == "feedback" and payload["text"] == "a lake"
    assert "a forest with a lake | remove the trees" in model.prompts[0]


@pytest.mark.django_db
def test_undo_and_redo(collection, user, encoder, scripted):
    session = session_create(user=user)
    turn = turn_create(session=session, text="show me cats", top_k=5, encoder=encoder)
    rewrites.turn_rewrite(turn.pk, model=scripted("a cat"), encoder=encoder)

    undone = rewrites.turn_rewrite_set_applied(turn=turn, applied=False)
    redone = rewrites.turn_rewrite_set_applied(turn=turn, applied=True)

    assert undone.rewrite["applied"] is False and redone.rewrite["applied"] is True
    assert redone.rewrite["text"] == "a cat"


@pytest.mark.django_db
def test_a_repeated_task_does_not_rewrite_twice(collection, user, encoder, scripted):
    session = session_create(user=user)
    turn = turn_create(session=session, text="show me cats", top_k=5, encoder=encoder)
    rewrites.turn_rewrite(turn.pk, model=scripted("a cat"), encoder=encoder)

    again = rewrites.turn_rewrite(turn.pk, model=scripted("a dog"), encoder=encoder)

    assert again["text"] == "a cat"


@pytest.mark.django_db
def test_the_time_limit_leaves_the_query_and_tells_the_page(collection, user, encoder, monkeypatch):
    session = session_create(user=user)
    turn = turn_create(session=session, text="show me cats", top_k=5, encoder=encoder)
    receive = listen(session.pk)

    def slow(turn_id):
        raise SoftTimeLimitExceeded()

    monkeypatch.setattr(language_tasks, "turn_rewrite", slow)

    payload = rewrite_turn_task.apply(args=(turn.pk,)).get()

    assert payload["state"] == "fallback" and "time limit" in payload["reason"]
    assert SearchTurn.objects.get(pk=turn.pk).rewrite["state"] == "fallback"
    assert receive()["event"]["state"] == "fallback"


def test_the_rewrite_task_runs_on_the_llm_queue_under_a_time_limit(settings):
    assert project_celery_app.amqp.router.route({}, rewrite_turn_task.name)["queue"].name == "llm"
    assert rewrite_turn_task.soft_time_limit == settings.LLM_TASK_TIME_LIMIT
    assert rewrite_turn_task.time_limit > rewrite_turn_task.soft_time_limit


@pytest.mark.django_db
def test_a_broker_that_is_down_never_fails_the_search(collection, user, encoder, monkeypatch):
    session = session_create(user=user)
    turn = turn_create(session=session, text="show me cats", top_k=5, encoder=encoder)

    def down(*args, **kwargs):
        raise ConnectionRefusedError("no broker")

    monkeypatch.setattr(rewrite_turn_task, "apply_async", down)

    assert rewrites.turn_rewrite_request(turn) is False
    assert SearchTurn.objects.get(pk=turn.pk).rewrite == {}


@pytest.mark.django_db
def test_switched_off_nothing_is_queued(collection, user, encoder, settings, queued):
    settings.LLM_QUERY_TRANSLATION = False
    session = session_create(user=user)
    turn = turn_create(session=session, text="show me cats", top_k=5, encoder=encoder)

    assert rewrites.turn_rewrite_request(turn) is False
    assert queued == []


@pytest.mark.django_db(transaction=True)
def test_the_rewrite_arrives_over_the_websocket_after_the_first_results(
    collection, user, encoder, queued, monkeypatch, scripted
):
    session = session_create(user=user)
    monkeypatch.setattr(language, "get_language_model", lambda: scripted("a red circle"))

    async def conversation():
        communicator = WebsocketCommunicator(SessionConsumer.as_asgi(), f"/ws/sessions/{session.pk}/")
        communicator.scope["user"] = user
        communicator.scope["url_route"] = {"kwargs": {"session_id": session.pk}}
        connected, _ = await communicator.connect()
        assert connected
        await communicator.send_json_to({"type": "turn", "text": "can you show me a red circle?", "k": 5})
        first = await communicator.receive_json_from(timeout=30)
        # The vector results are on the page; the rewrite is only queued, not run, at this point.
        turn = await SearchTurn.objects.aget(pk=first["turn"]["id"])
        state_when_answered = turn.rewrite
        await communicator.receive_nothing(timeout=0.2)
        from channels.db import database_sync_to_async

        await database_sync_to_async(lambda: rewrite_turn_task.apply(args=queued[0]).get())()
        second = await communicator.receive_json_from(timeout=30)
        await communicator.disconnect()
        return first, state_when_answered, second

    first, state_when_answered, second = async_to_sync(conversation)()

    assert first["type"] == "turn" and len(first["hits"]) == 5
    assert state_when_answered == {"state": "pending"}
    assert queued == [(first["turn"]["id"],)]
    assert second["type"] == "rewrite" and second["turn_id"] == first["turn"]["id"]
    assert second["text"] == "a red circle" and second["original"] == "can you show me a red circle?"
    assert len(second["hits"]) == 5


@pytest.mark.django_db
def test_an_empty_llm_model_turns_rewrites_off(collection, user, encoder, settings, queued):
    settings.LLM_MODEL = ""
    session = session_create(user=user)
    turn = turn_create(session=session, text="show me cats", top_k=5, encoder=encoder)

    assert rewrites.turn_rewrite_request(turn) is False
    assert queued == []
