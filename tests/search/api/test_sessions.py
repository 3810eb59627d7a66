import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from search.models import QueryImage, SearchSession, SearchTurn
from tests.factories import noise_image_bytes

pytestmark = pytest.mark.django_db


def new_session(api, title="") -> dict:
    response = api.post("/api/sessions/", {"title": title}, format="json")
    assert response.status_code == 201, response.json()
    return response.json()


def turn(api, session_id, payload, fmt="json"):
    return api.post(f"/api/sessions/{session_id}/turns/", payload, format=fmt)


def test_create_session_then_query_and_refine(api, rows):
    session = new_session(api, "shapes")
    assert session["turns"] == []
    first = turn(api, session["id"], {"text": "a red circle", "top_k": 10})
    assert first.status_code == 201, first.json()
    first = first.json()
    assert (first["position"], first["kind"], first["parent"]) == (1, "query", None)
    shown = [hit["id"] for hit in first["results"]]
    assert len(shown) == 10
    judged = turn(api, session["id"], {"relevant_ids": shown[:2], "not_relevant_ids": shown[2:3], "top_k": 10})
    assert judged.status_code == 201, judged.json()
    judged = judged.json()
    assert (judged["kind"], judged["parent"]) == ("judgement", 1)
    assert not set(shown[:3]) & {hit["id"] for hit in judged["results"]}
    feedback = turn(api, session["id"], {"feedback": "no blue", "parent": 1, "weights": {"negative": 0.8}})
    assert feedback.status_code == 201, feedback.json()
    assert (feedback.json()["kind"], feedback.json()["parent"]) == ("feedback", 1)
    assert feedback.json()["weights"]["negative"] == 0.8
    detail = api.get(f"/api/sessions/{session['id']}/").json()
    assert [t["position"] for t in detail["turns"]] == [1, 2, 3]
    assert detail["title"] == "shapes"


def test_more_like_this_turn(api, rows):
    session = new_session(api)
    turn(api, session["id"], {"text": "a red circle"})
    response = turn(api, session["id"], {"more_like_image_id": rows[5].id, "top_k": 3})
    assert response.status_code == 201, response.json()
    assert response.json()["kind"] == "more_like_this"
    assert response.json()["results"][0]["id"] == rows[5].id


def test_a_multipart_turn_with_an_image_keeps_the_upload(api, stored_image):
    session = new_session(api)
    data = {"image": SimpleUploadedFile("q.png", noise_image_bytes(1, fmt="PNG")), "relevant_ids": "[]"}
    response = turn(api, session["id"], data, fmt="multipart")
    assert response.status_code == 201, response.json()
    assert response.json()["results"][0]["id"] == stored_image.id
    assert QueryImage.objects.filter(session_id=session["id"]).count() == 1


def test_a_refused_turn_leaves_no_upload_behind(api, media_root):
    session = new_session(api)
    data = {"image": SimpleUploadedFile("q.png", noise_image_bytes(1, fmt="PNG")), "more_like_image_id": "1"}
    response = turn(api, session["id"], data, fmt="multipart")
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "more_like_image_id"
    assert not QueryImage.objects.exists()
    assert not list((media_root).rglob("*.png"))


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({}, "query"),
        ({"feedback": "more red"}, "query"),
        ({"text": "x", "top_k": 0}, "top_k"),
        ({"text": "x", "relevant_ids": ["a"]}, "relevant_ids.0"),
        ({"text": "x", "relevant_ids": [0]}, "relevant_ids.0"),
        ({"text": "x", "weights": {"alpha": -1}}, "weights.alpha"),
        ({"text": "x", "weights": {"zeta": 1}}, "weights.zeta"),
        ({"text": "x", "parent": 7}, "parent"),
        ({"text": "x", "colour": "red"}, "colour"),
        ({"text": "x", "relevant_ids": [1], "not_relevant_ids": [1]}, "relevant_ids"),
        ({"more_like_image_id": 123456789}, "more_like_image_id"),
    ],
)
def test_bad_turns_are_400_naming_the_field(api, rows, payload, field):
    session = new_session(api)
    response = turn(api, session["id"], payload)
    assert response.status_code == 400
    assert field in [error["field"] for error in response.json()["errors"]]
    assert not SearchTurn.objects.exists()


def test_users_see_only_their_own_sessions(api, other_api, rows):
    session = new_session(api)
    turn(api, session["id"], {"text": "a red circle"})
    assert other_api.get(f"/api/sessions/{session['id']}/").status_code == 404
    refused = turn(other_api, session["id"], {"feedback": "more red"})
    assert refused.status_code == 404
    assert SearchTurn.objects.filter(session_id=session["id"]).count() == 1
    assert api.get("/api/sessions/999999/").status_code == 404


def test_sessions_need_authentication(anon, user):
    session = SearchSession.objects.create(user=user)
    assert anon.post("/api/sessions/", {}, format="json").status_code == 401
    assert anon.get(f"/api/sessions/{session.id}/").status_code == 401
    assert anon.post(f"/api/sessions/{session.id}/turns/", {"text": "x"}, format="json").status_code == 401


def test_session_detail_query_count_is_bounded(api, rows, django_assert_max_num_queries):
    session = new_session(api)
    for text in ("a", "b", "c"):
        turn(api, session["id"], {"text": text})
    with django_assert_max_num_queries(12):
        assert api.get(f"/api/sessions/{session['id']}/").status_code == 200
