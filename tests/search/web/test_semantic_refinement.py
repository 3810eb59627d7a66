"""Refinement must move results toward what the user asked for, measured with the project's trained model."""

from pathlib import Path

import pytest

from search.services.sessions import session_create, turn_create

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def trained_model(settings):
    """Semantics need trained weights (tests/fixtures/clip/imagesearch-tiny.pt); random ones mean nothing."""
    if not settings.CLIP_PRETRAINED or not Path(settings.CLIP_PRETRAINED).is_file():
        pytest.skip("needs the trained imagesearch-tiny checkpoint (tests/fixtures/clip/imagesearch-tiny.pt)")


TOP = 8


def share(turn, collection, colour: str) -> float:
    """The share of `colour` images among the turn's top results."""
    ids = [row["id"] for row in turn.results[:TOP]]
    return sum(collection[image_id][0] == colour for image_id in ids) / len(ids)


def test_a_full_description_finds_its_colour(user, collection):
    text = "a large blue circle in the centre on a white background"
    turn = turn_create(session=session_create(user=user), text=text, top_k=4)
    assert all(collection[row["id"]][0] == "blue" for row in turn.results)


# The first queries below name no colour; the model then leans to red, so each test asks for blue, the harder way.


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


def test_feedback_text_raises_the_named_colour(user, collection):
    session = session_create(user=user)
    first = turn_create(session=session, text="a large circle", top_k=TOP)
    refined = turn_create(session=session, feedback="focus on blue", top_k=TOP)
    assert share(refined, collection, "blue") > share(first, collection, "blue")
    assert share(refined, collection, "blue") >= 0.5


def test_negated_feedback_lowers_what_it_names(user, collection):
    session = session_create(user=user)
    first = turn_create(session=session, text="a large circle", top_k=TOP)
    refined = turn_create(session=session, feedback="no red", top_k=TOP)
    assert share(refined, collection, "red") < share(first, collection, "red")
