"""Pages: login required everywhere, sessions private to their user, the form-post fallback of refinement."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from search.models import Image, SearchSession
from search.services.sessions import session_create, turn_create
from tests.factories import image_bytes

pytestmark = pytest.mark.django_db


@pytest.fixture
def session(user, collection):
    session = session_create(user=user)
    turn_create(session=session, text="a red circle", top_k=6)
    return session


@pytest.mark.parametrize(
    "url",
    ["/", "/sessions/", "/sessions/1/", "/images/1/thumbnail/", "/images/1/original/", "/images/1/download/"],
)
def test_anonymous_visitors_are_sent_to_log_in_and_back(client, url):
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"] == f"{reverse('accounts:login')}?next={url}"


def test_home_shows_the_search_form(auth_client):
    response = auth_client.get("/")
    assert response.status_code == 200
    assert b'name="q"' in response.content and b'name="image"' in response.content


def test_a_search_opens_a_new_session_at_its_first_turn(auth_client, user, collection):
    response = auth_client.post("/", {"q": "a red circle", "k": 5})
    session = SearchSession.objects.get(user=user)
    assert response.status_code == 302 and response["Location"] == f"/sessions/{session.pk}/"
    page = auth_client.get(response["Location"])
    assert page.content.count(b'class="result"') == 5
    assert b"Turn 1" in page.content and b'class="score"' in page.content


def test_an_image_search_puts_the_same_image_first(auth_client, user, collection):
    first = Image.objects.get(pk=min(collection))
    upload = SimpleUploadedFile("query.png", first.file.read(), content_type="image/png")
    auth_client.post("/", {"image": upload, "k": 2})
    turn = SearchSession.objects.get(user=user).turns.get()
    assert turn.results[0]["id"] == first.pk


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"image": SimpleUploadedFile("q.jpg", b"not really a jpeg", content_type="image/jpeg")}, b"not an image"),
        ({"q": "cat", "k": 1000}, b"less than or equal to 100"),
        ({"q": ""}, b"Describe what you are looking for"),
    ],
)
def test_bad_searches_are_a_400_with_the_reason_and_leave_nothing(auth_client, collection, data, message):
    response = auth_client.post("/", data)
    assert response.status_code == 400
    assert message in response.content
    assert not SearchSession.objects.exists()


def test_refinement_by_form_post_adds_a_turn_and_redirects_to_it(auth_client, session):
    first = session.turns.get()
    relevant, not_relevant = first.results[0]["id"], first.results[1]["id"]
    response = auth_client.post(
        f"/sessions/{session.pk}/",
        {"parent": first.pk, "feedback": "no squares", "relevant": [relevant], "not_relevant": [not_relevant]},
    )
    assert response.status_code == 302 and response["Location"] == f"/sessions/{session.pk}/?turn=2"
    second = session.turns.get(position=2)
    assert second.relevant_ids == [relevant] and second.text == "no squares"
    page = auth_client.get(response["Location"])
    assert f'data-image-id="{relevant}"'.encode() not in page.content


def test_more_like_this_by_form_post(auth_client, session, collection):
    image_id = max(collection)
    auth_client.post(f"/sessions/{session.pk}/", {"more_like": image_id})
    assert session.turns.get(position=2).results[0]["id"] == image_id


def test_a_refused_refinement_is_a_400_with_the_reason(auth_client, session):
    response = auth_client.post(f"/sessions/{session.pk}/", {"relevant": ["abc"]})
    assert response.status_code == 400
    assert b"whole numbers" in response.content
    response = auth_client.post(f"/sessions/{session.pk}/", {"feedback": ""})
    assert response.status_code == 400 and b"Refine with feedback" in response.content
    assert session.turns.count() == 1


def test_an_earlier_turn_can_be_reopened(auth_client, session):
    turn_create(session=session, feedback="blue")
    response = auth_client.get(f"/sessions/{session.pk}/", {"turn": 1})
    assert response.context["turn"].position == 1
    assert auth_client.get(f"/sessions/{session.pk}/", {"turn": 9}).status_code == 404


def test_another_users_session_is_404_everywhere(client, other_user, session):
    client.force_login(other_user)
    assert client.get(f"/sessions/{session.pk}/").status_code == 404
    assert client.post(f"/sessions/{session.pk}/", {"feedback": "red"}).status_code == 404
    assert client.post(f"/sessions/{session.pk}/rename/", {"title": "mine"}).status_code == 404
    assert client.post(f"/sessions/{session.pk}/delete/").status_code == 404
    assert b"a red circle" not in client.get("/sessions/").content
    assert SearchSession.objects.filter(pk=session.pk, title="a red circle").exists()


def test_history_lists_renames_and_deletes_sessions(auth_client, session):
    history = auth_client.get("/sessions/")
    assert b"a red circle" in history.content and b"1 turn" in history.content
    auth_client.post(f"/sessions/{session.pk}/rename/", {"title": "circles"})
    assert SearchSession.objects.get(pk=session.pk).title == "circles"
    assert auth_client.get(f"/sessions/{session.pk}/delete/").status_code == 200
    assert auth_client.post(f"/sessions/{session.pk}/delete/").status_code == 302
    assert not SearchSession.objects.exists()


def test_refinement_upload_beyond_the_limit_is_refused(auth_client, session, settings):
    settings.SESSION_MAX_UPLOADS = 1
    first = SimpleUploadedFile("a.png", image_bytes("red", fmt="PNG"), content_type="image/png")
    assert auth_client.post(f"/sessions/{session.pk}/", {"image": first}).status_code == 302
    second = SimpleUploadedFile("b.png", image_bytes("blue", fmt="PNG"), content_type="image/png")
    response = auth_client.post(f"/sessions/{session.pk}/", {"image": second})
    assert response.status_code == 400 and b"at most 1 uploaded" in response.content
    assert session.query_images.count() == 1


def test_a_hybrid_search_from_the_page_finds_a_caption_word(auth_client, user, collection, encoder):
    far = Image.objects.get(pk=max(collection))
    Image.objects.filter(pk=far.pk).update(caption="a zebra crossing in town")
    auth_client.post("/", {"q": "zebra", "k": 3, "hybrid": "on"})
    turn = SearchSession.objects.get(user=user).turns.get()
    assert turn.results[0]["id"] == far.pk and turn.filters == {"mode": "hybrid"}


def test_photo_filters_from_the_page_hold_for_the_refinements(auth_client, user, collection):
    dated = sorted(collection)[:2]
    Image.objects.filter(pk__in=dated).update(taken_at="2024-06-01T10:00:00Z", camera_model="iPhone 15")
    auth_client.post(
        "/", {"q": "a shape", "taken_after": "2024-06-01", "taken_before": "2024-06-01", "camera": "iphone"}
    )
    session = SearchSession.objects.get(user=user)
    first = session.turns.get()
    assert {row["id"] for row in first.results} == set(dated)
    assert first.filters["camera"] == "iphone" and first.filters["taken_after"].startswith("2024-06-01T00:00")
    refined = turn_create(session=session, parent=first, feedback="bigger")
    assert {row["id"] for row in refined.results} <= set(dated) and refined.filters == first.filters


def test_an_impossible_date_range_is_a_400_that_says_so(auth_client, user, collection):
    response = auth_client.post("/", {"q": "a shape", "taken_after": "2024-06-02", "taken_before": "2024-06-01"})
    assert response.status_code == 400 and b"later than" in response.content
    assert not SearchSession.objects.exists()


def test_home_says_how_large_the_collection_is(auth_client, collection):
    page = auth_client.get("/")
    assert f"Search {len(collection)} images".encode() in page.content


def test_a_refused_upload_is_explained_without_library_names(auth_client, collection):
    upload = SimpleUploadedFile("q.jpg", b"not really a jpeg", content_type="image/jpeg")
    response = auth_client.post("/", {"image": upload})
    assert b"not an image that can be read" in response.content and b"Pillow" not in response.content


def test_load_more_answers_the_next_cards_as_html(auth_client, session):
    first = session.turns.get()
    response = auth_client.get(f"/sessions/{session.pk}/turns/1/more/", {"shown": 6})
    page = response.json()
    assert response.status_code == 200 and page["html"].count('class="result"') == 10 and page["more"] is False
    assert not any(f'data-image-id="{row["id"]}"' in page["html"] for row in first.results)
    assert auth_client.get(f"/sessions/{session.pk}/turns/9/more/", {"shown": 6}).status_code == 404
    assert auth_client.get(f"/sessions/{session.pk}/turns/1/more/", {"shown": "x"}).status_code == 404


def test_the_session_page_shows_its_tree_chips_and_load_more(auth_client, session):
    first = session.turns.get()
    turn_create(session=session, feedback="no squares")
    turn_create(session=session, parent=first, feedback="bigger")
    page = auth_client.get(f"/sessions/{session.pk}/").content.decode()
    assert 'aria-label="Branch from turn 1"' in page and 'aria-label="Remove “bigger”"' in page
    assert f"/sessions/{session.pk}/turns/3/more/" in page


def test_example_images_are_served_to_their_sessions_owner_only(auth_client, client, other_user, session):
    first = SimpleUploadedFile("a.png", image_bytes("red", fmt="PNG"), content_type="image/png")
    auth_client.post(f"/sessions/{session.pk}/", {"image": first})
    image = session.query_images.get()
    url = f"/sessions/{session.pk}/query-images/{image.pk}/"
    assert auth_client.get(url).status_code == 200
    assert f'src="{url}"'.encode() in auth_client.get(f"/sessions/{session.pk}/").content
    client.force_login(other_user)
    assert client.get(url).status_code == 404


def test_a_turn_can_search_again_with_the_sessions_example_image(auth_client, session):
    upload = SimpleUploadedFile("a.png", image_bytes("red", fmt="PNG"), content_type="image/png")
    auth_client.post(f"/sessions/{session.pk}/", {"image": upload})
    image = session.query_images.get()
    response = auth_client.post(f"/sessions/{session.pk}/", {"text": "red", "query_image": image.pk})
    assert response.status_code == 302
    assert session.turns.get(position=3).query_image == image


def test_the_session_page_names_the_filters_its_search_keeps_to(auth_client, user, collection):
    auth_client.post("/", {"q": "a shape", "taken_after": "2024-06-01", "camera": "iphone", "hybrid": "on"})
    session = SearchSession.objects.get(user=user)
    page = auth_client.get(f"/sessions/{session.pk}/").content.decode()
    assert "taken from 1 Jun 2024" in page and "camera “iphone”" in page
    assert "caption and file-name words count too" in page
