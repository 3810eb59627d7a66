"""Search sessions, query uploads and turns: the service layer the page, the websocket and the API share."""

from pathlib import Path

import numpy as np
import pytest
from django.core.files.storage import default_storage

from search.errors import InvalidQuery
from search.models import QueryImage, SearchSession, SearchTurn, TurnKind
from search.selectors.sessions import session_get_for_user, turn_hits
from search.services.sessions import (
    query_image_store,
    session_create,
    session_delete,
    session_rename,
    session_start,
    turn_create,
)
from tests.factories import image_bytes, noise_image_bytes, png_bomb_bytes

pytestmark = pytest.mark.django_db


def test_session_create_rename_and_lookup_are_per_user(user, other_user):
    session = session_create(user=user, title="  holiday   pictures ")
    assert session.title == "holiday pictures"
    session_rename(session=session, title="beach")
    assert session_get_for_user(user=user, session_id=session.pk).title == "beach"
    with pytest.raises(SearchSession.DoesNotExist):
        session_get_for_user(user=other_user, session_id=session.pk)
    with pytest.raises(SearchSession.DoesNotExist):
        session_get_for_user(user=user, session_id="nope")


def test_rename_refuses_a_long_title(user):
    with pytest.raises(InvalidQuery, match="limit is 200"):
        session_rename(session=session_create(user=user), title="x" * 201)


def test_query_image_is_checked_by_content_and_kept_with_the_session(user):
    session = session_create(user=user)
    stored = query_image_store(session=session, data=image_bytes("red", fmt="PNG"), original_name="photo.jpg")
    assert (stored.format, stored.width, stored.height) == ("PNG", 64, 48)
    assert default_storage.exists(stored.file.name)
    assert query_image_store(session=session, data=image_bytes("red", fmt="PNG"), original_name="again.png") == stored


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"", "empty"),
        (b"<html>not an image</html>", "not an image"),
        (png_bomb_bytes(), "decompression bomb"),
        (image_bytes(fmt="BMP"), "BMP images are not accepted"),
        (image_bytes(fmt="TIFF"), "TIFF images are not accepted"),
    ],
)
def test_bad_uploads_are_refused_with_the_reason(user, data, reason, media_root):
    session = session_create(user=user)
    with pytest.raises(InvalidQuery, match=reason) as caught:
        query_image_store(session=session, data=data, original_name="x.png")
    assert caught.value.field == "image"
    assert not QueryImage.objects.exists()
    assert not any(path.is_file() for path in media_root.rglob("*"))


def test_upload_over_the_size_limit_is_refused(user, settings):
    settings.UPLOAD_MAX_BYTES = 1000
    with pytest.raises(InvalidQuery, match="limit is 1,000"):
        query_image_store(session=session_create(user=user), data=noise_image_bytes(1), original_name="big.jpg")


def test_a_session_holds_at_most_the_configured_uploads(user, settings):
    settings.SESSION_MAX_UPLOADS = 2
    session = session_create(user=user)
    for seed in range(2):
        query_image_store(session=session, data=noise_image_bytes(seed), original_name=f"{seed}.jpg")
    with pytest.raises(InvalidQuery, match="at most 2 uploaded images"):
        query_image_store(session=session, data=noise_image_bytes(9), original_name="9.jpg")


def test_first_turn_records_the_query_and_its_results(user, collection, encoder):
    session = session_create(user=user)
    turn = turn_create(session=session, text="a red circle", top_k=5)
    assert (turn.position, turn.kind, turn.text, turn.query_text) == (1, TurnKind.QUERY, "a red circle", "a red circle")
    assert turn.model_key == encoder.model_key
    np.testing.assert_allclose(np.asarray(turn.query_vector), encoder.encode_text(["a red circle"])[0], atol=1e-5)
    assert len(turn.results) == 5 and set(turn.results[0]) == {"id", "score"}
    assert turn.weights["beta"] == 0.75
    session.refresh_from_db()
    assert session.title == "a red circle"


def test_image_turn_puts_the_same_image_first(user, collection):
    session = session_create(user=user)
    first_id = min(collection)
    from search.models import Image

    data = Image.objects.get(pk=first_id).file.read()
    stored = query_image_store(session=session, data=data, original_name="q.png")
    turn = turn_create(session=session, query_image=stored, top_k=3)
    assert turn.results[0]["id"] == first_id and turn.query_image == stored


def test_judgement_turn_moves_the_vector_and_hides_judged_images(user, collection):
    session = session_create(user=user)
    first = turn_create(session=session, text="a circle", top_k=6)
    relevant, not_relevant = first.results[0]["id"], first.results[1]["id"]
    second = turn_create(session=session, relevant_ids=[relevant], not_relevant_ids=[not_relevant], top_k=6)
    assert (second.position, second.parent, second.kind) == (2, first, TurnKind.JUDGEMENT)
    assert not {relevant, not_relevant} & {row["id"] for row in second.results}
    assert not np.allclose(np.asarray(second.query_vector), np.asarray(first.query_vector))
    third = turn_create(session=session, feedback="no squares", top_k=16)
    assert not {relevant, not_relevant} & {row["id"] for row in third.results}, "judged stay hidden down the branch"
    shown = turn_create(session=session, parent=third, feedback="blue", show_judged=True, top_k=16)
    assert {relevant, not_relevant} <= {row["id"] for row in shown.results}


def test_feedback_turn_adds_the_text_and_records_it(user, collection, encoder):
    session = session_create(user=user)
    first = turn_create(session=session, text="a circle")
    turn = turn_create(session=session, feedback="on a white background, no squares", weights={"negative": 1.0})
    assert (turn.kind, turn.text) == (TurnKind.FEEDBACK, "on a white background, no squares")
    assert turn.query_text == "a circle; on a white background, no squares"
    assert turn.weights["negative"] == 1.0
    positive, negated = encoder.encode_text(["on a white background", "squares"])
    expected = np.asarray(first.query_vector) + 0.7 * positive - 1.0 * negated
    np.testing.assert_allclose(np.asarray(turn.query_vector), expected / np.linalg.norm(expected), atol=1e-5)


def test_more_like_this_starts_from_the_image(user, collection):
    session = session_create(user=user)
    turn_create(session=session, text="a square")
    image_id = max(collection)
    turn = turn_create(session=session, more_like_image_id=image_id, top_k=3)
    assert turn.kind == TurnKind.MORE_LIKE_THIS
    assert turn.results[0] == {"id": image_id, "score": pytest.approx(1.0, abs=1e-4)}


def test_branching_from_an_earlier_turn(user, collection):
    session = session_create(user=user)
    first = turn_create(session=session, text="a circle")
    turn_create(session=session, feedback="red")
    branch = turn_create(session=session, parent=first, feedback="blue")
    assert (branch.position, branch.parent_id, branch.query_text) == (3, first.pk, "a circle; blue")


@pytest.mark.parametrize(
    ("options", "field", "message"),
    [
        ({}, "query", "Refine with feedback"),
        ({"relevant_ids": [1], "not_relevant_ids": [1]}, "relevant_ids", "both relevant and not"),
        ({"relevant_ids": [987654]}, "relevant_ids", "No searchable image"),
        ({"relevant_ids": ["x"]}, "relevant_ids", "whole numbers"),
        ({"more_like_image_id": -3}, "more_like_image_id", "positive"),
        ({"feedback": "x" * 1001}, "feedback", "limit is 1000"),
        ({"feedback": " , ; "}, "feedback", "Say what to look for"),
        ({"feedback": "red", "top_k": 0}, "top_k", "between 1 and"),
        ({"feedback": "red", "weights": {"zeta": 1}}, "weights", "Unknown weight"),
        ({"text": "a", "more_like_image_id": 1}, "more_like_image_id", "not both"),
    ],
)
def test_bad_refinements_are_refused_and_record_nothing(user, collection, options, field, message):
    session = session_create(user=user)
    turn_create(session=session, text="a circle")
    with pytest.raises(InvalidQuery, match=message) as caught:
        turn_create(session=session, **options)
    assert caught.value.field == field
    assert session.turns.count() == 1


def test_a_first_turn_needs_a_query(user, collection):
    with pytest.raises(InvalidQuery, match="Describe what you are looking for"):
        turn_create(session=session_create(user=user), feedback="red")


def test_a_parent_from_another_session_is_refused(user, collection):
    other = turn_create(session=session_create(user=user), text="a circle")
    with pytest.raises(InvalidQuery, match="another session"):
        turn_create(session=session_create(user=user), parent=other, feedback="red")


def test_turn_hits_reopen_a_turn_without_hidden_images(user, collection):
    from search.models import Image

    turn = turn_create(session=session_create(user=user), text="a circle", top_k=4)
    Image.objects.filter(pk=turn.results[1]["id"]).update(hidden=True)
    hits = turn_hits(turn)
    assert [hit.id for hit in hits] == [turn.results[i]["id"] for i in (0, 2, 3)]
    assert hits[0].score == turn.results[0]["score"]


def test_session_start_is_all_or_nothing(user, collection, media_root):
    with pytest.raises(InvalidQuery):
        session_start(user=user, text="x" * 1001, data=image_bytes("blue", fmt="PNG"), original_name="q.png")
    assert not SearchSession.objects.exists()
    assert not list((media_root / "queries").rglob("*.*")) if (media_root / "queries").exists() else True
    session = session_start(user=user, text="a blue square", data=image_bytes("blue", fmt="PNG"), original_name="q.png")
    assert session.turns.get().query_image is not None


def test_session_delete_removes_turns_and_query_files(user, collection, django_capture_on_commit_callbacks):
    session = session_start(user=user, text="a circle", data=image_bytes("blue", fmt="PNG"), original_name="q.png")
    name = session.query_images.get().file.name
    with django_capture_on_commit_callbacks(execute=True):
        session_delete(session=session)
    assert not SearchTurn.objects.exists() and not QueryImage.objects.exists()
    assert not default_storage.exists(name)


def test_the_language_work_of_a_turn_is_queued_on_commit(
    user, collection, django_capture_on_commit_callbacks, monkeypatch
):
    from search.services import sessions

    received = []
    monkeypatch.setattr(sessions, "turn_language_queue", received.append)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        turn = turn_create(session=session_create(user=user), text="a circle")
    assert received == []  # nothing before the turn commits
    for callback in callbacks:
        callback()
    assert received == [turn]


@pytest.fixture
def trained_model(settings):
    """Semantics need trained weights (tests/fixtures/clip/imagesearch-tiny.pt); random ones mean nothing."""
    if not settings.CLIP_PRETRAINED or not Path(settings.CLIP_PRETRAINED).is_file():
        pytest.skip("needs the trained imagesearch-tiny checkpoint (tests/fixtures/clip/imagesearch-tiny.pt)")


TOP = 8


def share(turn, collection, colour: str) -> float:
    """The share of `colour` images among the turn's top results."""
    ids = [row["id"] for row in turn.results[:TOP]]
    return sum(collection[image_id][0] == colour for image_id in ids) / len(ids)


@pytest.mark.usefixtures("trained_model")
def test_a_full_description_finds_its_colour(user, collection):
    text = "a large blue circle in the centre on a white background"
    turn = turn_create(session=session_create(user=user), text=text, top_k=4)
    assert all(collection[row["id"]][0] == "blue" for row in turn.results)


# The first queries below name no colour; the model then leans to red, so each test asks for blue, the harder way.


@pytest.mark.usefixtures("trained_model")
def test_relevance_judgements_raise_the_relevant_colour(user, collection):
    session = session_create(user=user)
    first = turn_create(session=session, text="a large square", top_k=TOP)
    shown = [row["id"] for row in first.results]
    relevant = [i for i in shown if collection[i][0] == "blue"][:2]
    not_relevant = [i for i in shown if collection[i][0] == "red"][:2]
    refined = turn_create(
        session=session, relevant_ids=relevant, not_relevant_ids=not_relevant, show_judged=True, top_k=TOP
    )
    assert share(refined, collection, "blue") > share(first, collection, "blue")
    assert share(refined, collection, "blue") >= 0.5


@pytest.mark.usefixtures("trained_model")
def test_feedback_text_raises_the_named_colour(user, collection):
    session = session_create(user=user)
    first = turn_create(session=session, text="a large circle", top_k=TOP)
    refined = turn_create(session=session, feedback="focus on blue", top_k=TOP)
    assert share(refined, collection, "blue") > share(first, collection, "blue")
    assert share(refined, collection, "blue") >= 0.5


@pytest.mark.usefixtures("trained_model")
def test_negated_feedback_lowers_what_it_names(user, collection):
    session = session_create(user=user)
    first = turn_create(session=session, text="a large circle", top_k=TOP)
    refined = turn_create(session=session, feedback="no red", top_k=TOP)
    assert share(refined, collection, "red") < share(first, collection, "red")
