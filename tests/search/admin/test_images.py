import pytest
from django.contrib.admin.models import CHANGE, LogEntry
from django.contrib.auth.models import User
from django.urls import reverse

from search.models import CaptionRevision, Image, ImageVector
from search.query import SearchScope
from search.selectors.vector import search_by_vector
from tests.factories import vector_atol

pytestmark = pytest.mark.django_db

CHANGELIST = "admin:search_image_changelist"


def _change_url(image: Image) -> str:
    return reverse("admin:search_image_change", args=[image.id])


def _act(client, action: str, images, follow=False, **extra):
    data = {"action": action, "_selected_action": [image.id for image in images], **extra}
    return client.post(reverse(CHANGELIST), data, follow=follow)


def _visible_hits(vector: ImageVector) -> set[int]:
    scope = SearchScope(top_k=50)
    return {hit.id for hit in search_by_vector(vector.embedding, scope=scope, model_key=vector.embedding_model)}


def _log_messages(image: Image) -> list[str]:
    return list(LogEntry.objects.filter(object_id=str(image.id)).values_list("change_message", flat=True))


# --- who may come in ---


def test_changelist_lists_images_with_thumbnails(curator_client, collection):
    response = curator_client.get(reverse(CHANGELIST))
    assert response.status_code == 200
    for image in collection.values():
        assert reverse("admin:search_image_thumbnail", args=[image.id]).encode() in response.content
    assert reverse("admin:search_image_duplicates").encode() in response.content


def test_non_staff_are_sent_to_the_login_page(client, collection):
    client.force_login(User.objects.create_user("visitor", password="pw"))
    image = collection["night.png"]
    for url in [reverse(CHANGELIST), _change_url(image), reverse("admin:search_image_duplicates")]:
        response = client.get(url)
        assert response.status_code == 302 and "/admin/login/" in response["Location"]


def test_anonymous_users_cannot_fetch_admin_files(client, collection):
    response = client.get(reverse("admin:search_image_thumbnail", args=[collection["night.png"].id]))
    assert response.status_code == 302


def test_staff_without_permissions_are_refused(client, collection):
    client.force_login(User.objects.create_user("newbie", password="pw", is_staff=True))
    assert client.get(reverse(CHANGELIST)).status_code == 403
    assert client.get(reverse("admin:search_image_thumbnail", args=[collection["night.png"].id])).status_code == 403


def test_staff_without_change_permission_cannot_change_images(viewer_client, collection):
    image = collection["night.png"]
    assert viewer_client.get(_change_url(image)).status_code == 200  # read-only page
    response = viewer_client.post(_change_url(image), {"caption": "mine now", "category": "x"})
    assert response.status_code == 403
    _act(viewer_client, "hide", [image])
    image.refresh_from_db()
    assert (image.caption, image.hidden) == ("", False)


# --- the change page ---


def test_change_page_shows_the_image_and_its_similar_images(curator_client, collection):
    image = collection["night.png"]
    response = curator_client.get(_change_url(image))
    assert response.status_code == 200
    assert reverse("admin:search_image_original", args=[image.id]).encode() in response.content
    similar = dict((other.original_name, score) for other, score in response.context["similar_images"])
    assert similar["night-small.png"] > 0.99
    assert _change_url(collection["night-small.png"]).encode() in response.content
    assert image.sha256.encode() in response.content


def test_editing_the_caption_curates_it_and_records_it(curator_client, curator, collection):
    image = collection["night.png"]
    Image.objects.filter(id=image.id).update(caption="a dark picture", caption_model="captioner-x")
    response = curator_client.post(
        _change_url(image), {"caption": "a yellow moon over a red box", "category": "night", "hidden": ""}
    )
    assert response.status_code == 302
    image.refresh_from_db()
    assert (image.caption, image.category, image.caption_curated) == ("a yellow moon over a red box", "night", True)
    revisions = list(image.caption_revisions.order_by("id").values_list("caption", "curated", "created_by"))
    assert revisions == [("a dark picture", False, None), ("a yellow moon over a red box", True, curator.id)]
    assert LogEntry.objects.filter(object_id=str(image.id), action_flag=CHANGE).exists()


def test_hiding_on_the_change_page_invalidates_cached_result_pages(
    curator_client, collection, django_capture_on_commit_callbacks
):
    from search.result_cache import collection_version_start

    image = collection["night.png"]
    before = collection_version_start()
    with django_capture_on_commit_callbacks(execute=True):
        response = curator_client.post(
            _change_url(image), {"caption": image.caption, "category": image.category, "hidden": "on"}
        )
    assert response.status_code == 302
    assert Image.objects.get(id=image.id).hidden
    assert collection_version_start() > before


def test_an_earlier_caption_can_be_restored(curator_client, collection):
    image = collection["night.png"]
    Image.objects.filter(id=image.id).update(caption="the captioner's words")
    curator_client.post(_change_url(image), {"caption": "a curator's words", "category": "", "hidden": ""})
    first = CaptionRevision.objects.filter(image=image).order_by("id").first()
    page = curator_client.get(_change_url(image))
    restore_url = reverse("admin:search_image_caption_restore", args=[image.id, first.id])
    assert restore_url.encode() in page.content
    assert curator_client.get(restore_url).status_code == 405
    response = curator_client.post(restore_url)
    assert response.status_code == 302
    image.refresh_from_db()
    assert (image.caption, image.caption_curated) == ("the captioner's words", True)
    assert any("restored" in message for message in _log_messages(image))


def test_changelist_search_and_filters(curator_client, collection):
    Image.objects.filter(id=collection["stripes.png"].id).update(caption="green stripes and a blue triangle")
    url = reverse(CHANGELIST)

    def names(params):
        return {image.original_name for image in curator_client.get(url, params).context["cl"].result_list}

    assert names({"q": "triangle"}) == {"stripes.png"}
    assert names({"q": "night-q40"}) == {"night-q40.jpg"}
    assert names({"has_caption": "yes"}) == {"stripes.png"}
    assert len(names({"has_caption": "no"})) == 4
    model_key = collection["night.png"].embedding_model
    assert len(names({"vector__embedding_model": model_key})) == 5
    assert len(names({"source": "folder", "category": "scenes", "hidden__exact": "0"})) == 5


def test_hidden_images_stay_visible_to_curators(curator_client, collection):
    image = collection["checks.png"]
    Image.objects.filter(id=image.id).update(hidden=True)
    response = curator_client.get(reverse("admin:search_image_thumbnail", args=[image.id]))
    assert (response.status_code, response["Content-Type"]) == (200, "image/webp")


def test_images_cannot_be_added_in_the_admin(curator_client, curator, db):
    curator.is_superuser = True
    curator.save()
    assert curator_client.get(reverse("admin:search_image_add")).status_code == 403


# --- actions ---


def test_hide_takes_images_out_of_search_at_once_and_unhide_brings_them_back(curator_client, collection):
    image = collection["stripes.png"]
    assert image.id in _visible_hits(image.vector)
    response = _act(curator_client, "hide", [image])
    assert response.status_code == 302
    assert image.id not in _visible_hits(image.vector)
    assert curator_client.get(reverse("search:thumbnail", args=[image.id])).status_code == 404
    _act(curator_client, "unhide", [image])
    assert image.id in _visible_hits(image.vector)
    assert _log_messages(image) == ["Shown in search again.", "Hidden from search."]


def test_set_category_asks_then_applies(curator_client, collection):
    images = [collection["night.png"], collection["stripes.png"]]
    form = _act(curator_client, "set_category", images)
    assert form.status_code == 200 and b'name="category"' in form.content
    response = _act(curator_client, "set_category", images, apply="1", category="favourites")
    assert response.status_code == 302
    assert set(Image.objects.filter(category="favourites").values_list("original_name", flat=True)) == {
        "night.png",
        "stripes.png",
    }
    assert _log_messages(images[0]) == ["Category set to “favourites”."]


def test_set_category_refuses_a_too_long_name(curator_client, collection):
    response = _act(curator_client, "set_category", [collection["night.png"]], apply="1", category="x" * 101)
    assert response.status_code == 200 and b"at most 100 characters" in response.content
    assert not Image.objects.exclude(category="scenes").exists()


def test_re_embed_queues_a_task_that_embeds_the_images_again(
    curator_client, collection, encoder, monkeypatch, django_capture_on_commit_callbacks
):
    from search.tasks import curation as tasks

    queued = []
    monkeypatch.setattr(tasks.images_embed_task, "apply_async", lambda args, **options: queued.append(args[0]))
    image = collection["night.png"]
    expected = list(image.vector.embedding)
    ImageVector.objects.filter(image=image).update(embedding=[0.1] * len(expected))
    with django_capture_on_commit_callbacks(execute=True):
        response = _act(curator_client, "re_embed", [image])
    assert response.status_code == 302 and queued == [[image.id]]
    result = tasks.images_embed_task.apply(args=[queued[0]]).get()
    assert result == {"updated": 1, "failed": []}
    image.vector.refresh_from_db()
    assert list(image.vector.embedding) == pytest.approx(expected, abs=vector_atol(encoder))


def test_re_caption_queues_the_captioner_for_uncurated_captions(
    curator_client, collection, monkeypatch, settings, django_capture_on_commit_callbacks
):
    from search.tasks.captions import caption_images_task

    settings.CAPTION_MODEL = "a-captioner"  # captioning on, whatever .env says
    queued = []
    monkeypatch.setattr(caption_images_task, "apply_async", lambda args, **options: queued.append(args[0]))
    image, curated = collection["night.png"], collection["stripes.png"]
    Image.objects.filter(id=curated.id).update(caption="kept", caption_curated=True)
    with django_capture_on_commit_callbacks(execute=True):
        response = _act(curator_client, "re_caption", [image, curated], follow=True)
    assert queued == [[image.id]]
    assert b"1 with curated captions kept" in response.content


def test_delete_leaves_no_row_no_vector_and_no_file(
    curator_client, collection, media_root, django_capture_on_commit_callbacks
):
    image = collection["stripes.png"]
    vector = image.vector  # searched with once the image is gone
    files = [media_root / image.file.name, media_root / image.thumbnail.name]
    assert all(path.exists() for path in files)
    with django_capture_on_commit_callbacks(execute=True):
        response = _act(curator_client, "delete_selected", [image], post="yes")
    assert response.status_code == 302
    assert not Image.objects.filter(id=image.id).exists()
    assert not any(path.exists() for path in files)
    assert ImageVector.objects.count() == 4 and not ImageVector.objects.filter(image_id=image.id).exists()
    assert image.id not in _visible_hits(vector)
    assert LogEntry.objects.filter(object_id=str(image.id), action_flag=3).exists()


def test_delete_from_the_change_page_removes_the_files(
    curator_client, collection, media_root, django_capture_on_commit_callbacks
):
    image = collection["checks.png"]
    with django_capture_on_commit_callbacks(execute=True):
        response = curator_client.post(reverse("admin:search_image_delete", args=[image.id]), {"post": "yes"})
    assert response.status_code == 302
    assert not Image.objects.filter(id=image.id).exists()
    assert not (media_root / image.file.name).exists() and not (media_root / image.thumbnail.name).exists()


def test_admin_page_lists_groups_and_keeps_one(curator_client, collection):
    page = curator_client.get(reverse("admin:search_image_duplicates"), {"threshold": "0.95"})
    assert page.status_code == 200
    assert [len(group.images) for group in page.context["report"].groups] == [3]
    assert b"csrfmiddlewaretoken" in page.content and b"Keep this, hide the others" in page.content
    keep = collection["night-small.png"]
    group = [collection[name].id for name in ("night.png", "night-small.png", "night-q40.jpg")]
    response = curator_client.post(
        reverse("admin:search_image_duplicates_resolve"), {"keep": keep.id, "ids": group, "threshold": "0.95"}
    )
    assert response.status_code == 302 and "threshold=0.95" in response["Location"]
    assert set(Image.objects.filter(hidden=True).values_list("original_name", flat=True)) == {
        "night.png",
        "night-q40.jpg",
    }
    logged = LogEntry.objects.filter(change_message=f"Hidden as a near-duplicate of image #{keep.id}.")
    assert logged.count() == 2
    assert curator_client.get(reverse("admin:search_image_duplicates")).context["report"].groups == []


def test_resolving_needs_post_a_known_image_and_change_permission(curator_client, viewer_client, collection):
    url = reverse("admin:search_image_duplicates_resolve")
    ids = [image.id for image in collection.values()]
    assert curator_client.get(url).status_code == 405
    assert curator_client.post(url, {"keep": "x", "ids": ids}).status_code == 400
    response = curator_client.post(url, {"keep": 999999, "ids": ids}, follow=True)
    assert b"no longer exists" in response.content
    assert viewer_client.post(url, {"keep": ids[0], "ids": ids}).status_code == 403
    assert not Image.objects.filter(hidden=True).exists()


def test_bad_threshold_falls_back_to_the_default_with_a_message(curator_client, collection):
    response = curator_client.get(reverse("admin:search_image_duplicates"), {"threshold": "2"})
    assert response.status_code == 200 and response.context["threshold"] == 0.95
    assert b"must be a number" in response.content
