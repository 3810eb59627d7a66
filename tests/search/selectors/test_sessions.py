"""Reads for the session page: the turn tree, the constraints along a branch, a turn's further results."""

import pytest

from search.errors import InvalidQuery
from search.models import Image, SearchSession, SearchTurn, TurnKind
from search.query import PhotoFilters
from search.selectors.sessions import query_image_get, turn_constraints, turn_more_hits, turn_tree
from search.services.sessions import session_create, turn_create


def turn(pk, kind=TurnKind.FEEDBACK, parent=None, text="", query_text="", **fields) -> SearchTurn:
    return SearchTurn(pk=pk, position=pk, kind=kind, parent_id=parent, text=text, query_text=query_text, **fields)


def shape(nodes) -> list:
    return [(node.turn.pk, [shape(line) for line in node.branches]) for node in nodes]


def test_a_line_of_refinements_stays_flat_and_a_refinement_of_an_earlier_turn_branches_under_it():
    turns = [turn(1, TurnKind.QUERY), turn(2, parent=1), turn(3, parent=2), turn(4, parent=1), turn(5, parent=4)]
    assert shape(turn_tree(turns)) == [(1, [[(4, []), (5, [])]]), (2, []), (3, [])]


def test_a_new_search_in_the_session_starts_a_line_of_its_own():
    turns = [turn(1, TurnKind.QUERY), turn(2, TurnKind.QUERY, parent=1), turn(3, parent=None)]
    assert shape(turn_tree(turns)) == [(1, []), (2, []), (3, [])]


def test_constraints_read_back_to_where_the_branch_started():
    turns = [
        turn(1, TurnKind.QUERY, text="a red circle", query_text="a red circle", query_image_id=7),
        turn(2, parent=1, text="no squares", relevant_ids=[10], not_relevant_ids=[11]),
        turn(3, TurnKind.JUDGEMENT, parent=2, relevant_ids=[12, 10]),
        turn(4, parent=3, text="bigger"),
        turn(5, parent=1, text="on the left"),
    ]
    constraints = turn_constraints(turns, turns[3])
    assert (constraints.description, constraints.query_image_id) == ("a red circle", 7)
    assert constraints.feedback == ("no squares", "bigger")
    assert (constraints.relevant_ids, constraints.not_relevant_ids) == ((10, 12), (11,))
    assert turn_constraints(turns, turns[4]).feedback == ("on the left",)


def test_a_search_made_again_without_one_refinement_keeps_the_others_as_constraints():
    again = turn(1, TurnKind.QUERY, text="a red circle", query_text="a red circle; bigger; no blue")
    more_like = turn(2, TurnKind.MORE_LIKE_THIS, text="no blue", query_text="no blue", more_like_image_id=3)
    assert turn_constraints([again], again).feedback == ("bigger", "no blue")
    started = turn_constraints([more_like], more_like)
    assert (started.feedback, started.description, started.more_like_image_id) == (("no blue",), "", 3)
    assert turn_constraints([], None).feedback == ()


@pytest.mark.django_db
def test_load_more_pages_on_past_what_the_turn_showed(user, collection, encoder):
    session = session_create(user=user)
    first = turn_create(session=session, text="night", top_k=2, encoder=encoder)
    shown = [row["id"] for row in first.results]
    page = turn_more_hits(session=session, turn=first, shown=2, page=2)
    assert len(page.hits) == 2 and page.more and not {hit.id for hit in page.hits} & set(shown)
    rest = turn_more_hits(session=session, turn=first, shown=4, page=2)
    assert len(rest.hits) == 1 and not rest.more
    assert {hit.id for hit in page.hits + rest.hits} | set(shown) == {image.pk for image in collection.values()}


@pytest.mark.django_db
def test_load_more_leaves_out_what_the_branch_judged(user, collection, encoder):
    session = session_create(user=user)
    first = turn_create(session=session, text="night", top_k=1, encoder=encoder)
    judged = turn_create(
        session=session, parent=first, relevant_ids=[collection["stripes.png"].pk], top_k=1, encoder=encoder
    )
    page = turn_more_hits(session=session, turn=judged, shown=1, page=5)
    assert collection["stripes.png"].pk not in {hit.id for hit in page.hits}


@pytest.mark.django_db
def test_an_example_image_is_used_again_only_in_its_own_session(user, other_user):
    mine, theirs = SearchSession.objects.create(user=user), SearchSession.objects.create(user=other_user)
    image = theirs.query_images.create(file="q.png", sha256="0" * 64, format="PNG", width=1, height=1, byte_size=1)
    assert query_image_get(session=theirs, query_image_id=image.pk) == image
    assert query_image_get(session=mine, query_image_id=None) is None
    for bad in (image.pk, "1", True):
        with pytest.raises(InvalidQuery):
            query_image_get(session=mine, query_image_id=bad)


@pytest.mark.django_db
def test_load_more_keeps_to_the_turns_photo_filters(user, collection, encoder):
    Image.objects.filter(pk=collection["night.png"].pk).update(camera_model="Pixel 8")
    session = session_create(user=user)
    first = turn_create(session=session, text="night", top_k=1, encoder=encoder, photo=PhotoFilters(camera="pixel"))
    assert turn_more_hits(session=session, turn=first, shown=1, page=5).hits == []
