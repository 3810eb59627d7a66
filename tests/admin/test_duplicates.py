from io import StringIO

import pytest
from django.contrib.admin.models import LogEntry
from django.core.management import call_command
from django.urls import reverse

from search.models import Image
from search.selectors.duplicates import find_duplicates
from search.vector_index import ensure_hnsw_index
from tests.factories import image_row, unit_vector

pytestmark = pytest.mark.django_db


def test_resized_and_re_encoded_copies_are_grouped_with_their_original(collection):
    report = find_duplicates(threshold=0.95)
    groups = [{image.original_name for image in group.images} for group in report.groups]
    assert groups == [{"night.png", "night-small.png", "night-q40.jpg"}]
    assert report.checked == 5
    # A full-size copy is offered as the one to keep.
    assert report.groups[0].images[0].original_name in {"night.png", "night-q40.jpg"}
    assert report.groups[0].similarity > 0.99


def test_unrelated_images_are_not_grouped(collection):
    close = {image.id for group in find_duplicates(threshold=0.95).groups for image in group.images}
    assert collection["stripes.png"].id not in close and collection["checks.png"].id not in close


def test_hidden_images_are_left_out(collection):
    Image.objects.filter(original_name__startswith="night-").update(hidden=True)
    assert find_duplicates(threshold=0.95).groups == []


def test_chains_of_close_pairs_form_one_group_and_models_stay_apart(db):
    for model_key in ("m:a", "m:b"):
        ensure_hnsw_index(model_key, 32)  # before any row: a transaction with new rows cannot create an index
    base = unit_vector(32, seed=1)
    near = base + 0.05 * unit_vector(32, seed=2)
    nearer = near + 0.05 * unit_vector(32, seed=3)
    ids = [image_row(vector=v / (v**2).sum() ** 0.5, model_key="m:a").id for v in (base, near, nearer)]
    image_row(vector=unit_vector(32, seed=4), model_key="m:a")
    image_row(vector=base, model_key="m:b")  # the same vector, from another model: never compared
    report = find_duplicates(threshold=0.99)
    assert [sorted(group.ids) for group in report.groups] == [sorted(ids)]
    assert report.checked == 5


def test_command_lists_the_groups(collection):
    out = StringIO()
    call_command("duplicates", "--threshold", "0.95", stdout=out)
    output = out.getvalue()
    assert "group 1: 3 images" in output and "night-q40.jpg" in output
    assert "1 groups (2 images to hide) among 5 images at threshold 0.95" in output


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
