import io

import pytest
from PIL import Image as PILImage

from search.models import CaptionRevision, Image

pytestmark = pytest.mark.django_db


def test_list_pages_with_a_cursor_newest_first(api, rows):
    first = api.get("/api/images/", {"page_size": 25})
    assert first.status_code == 200
    body = first.json()
    ids = [image["id"] for image in body["results"]]
    assert ids == sorted(ids, reverse=True)
    assert len(ids) == 25
    assert body["previous"] is None
    seen = list(ids)
    url = body["next"]
    while url:
        page = api.get(url).json()
        seen += [image["id"] for image in page["results"]]
        url = page["next"]
    assert sorted(seen) == sorted(row.id for row in rows)


def test_list_filters(api, rows, encoder):
    rare = api.get("/api/images/", {"category": "rare", "page_size": 100}).json()["results"]
    assert len(rare) == 20
    assert {image["category"] for image in rare} == {"rare"}
    by_model = api.get("/api/images/", {"model": "other:model"}).json()["results"]
    assert by_model == []
    Image.objects.filter(id=rows[0].id).update(caption="")
    uncaptioned = api.get("/api/images/", {"captioned": "false"}).json()["results"]
    assert [image["id"] for image in uncaptioned] == [rows[0].id]


def test_hidden_images_are_listed_for_staff_only(api, staff_api, rows):
    Image.objects.filter(id=rows[0].id).update(hidden=True)
    visible_ids = {image["id"] for image in api.get("/api/images/", {"page_size": 100}).json()["results"]}
    assert rows[0].id not in visible_ids
    assert api.get("/api/images/", {"hidden": "true"}).json()["results"] != []  # ignored for non-staff
    staff_hidden = staff_api.get("/api/images/", {"hidden": "true"}).json()["results"]
    assert [image["id"] for image in staff_hidden] == [rows[0].id]
    assert api.get(f"/api/images/{rows[0].id}/").status_code == 404
    assert staff_api.get(f"/api/images/{rows[0].id}/").json()["hidden"] is True


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"page_size": 0}, "page_size"),
        ({"page_size": 501}, "page_size"),
        ({"source": "moon"}, "source"),
        ({"captioned": "perhaps"}, "captioned"),
        ({"cursor": "garbage"}, "cursor"),
        ({"colour": "red"}, "colour"),
    ],
)
def test_bad_list_parameters_are_400_naming_the_parameter(api, params, field):
    response = api.get("/api/images/", params)
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == field


def test_detail_and_missing_image(api, stored_image):
    body = api.get(f"/api/images/{stored_image.id}/").json()
    assert body["id"] == stored_image.id
    assert body["original_name"] == "noise.png"
    assert body["url"] == f"/api/images/{stored_image.id}/download/"
    missing = api.get("/api/images/999999999/")
    assert missing.status_code == 404
    assert missing.json()["errors"][0]["code"] == "not_found"
    assert api.get("/api/images/99999999999999999999999/").status_code == 404


def test_download_original_and_jpeg(api, stored_image):
    original = api.get(f"/api/images/{stored_image.id}/download/")
    assert original.status_code == 200
    assert original["Content-Type"] == "image/png"
    assert b"".join(original.streaming_content).startswith(b"\x89PNG")
    # The same readable, collision-free name as the page's download (search.files.download_name).
    assert f'filename="noise-{stored_image.id}.png"' in original["Content-Disposition"]
    jpeg = api.get(f"/api/images/{stored_image.id}/download/", {"format": "jpeg"})
    assert jpeg.status_code == 200
    assert jpeg["Content-Type"] == "image/jpeg"
    assert PILImage.open(io.BytesIO(jpeg.content)).format == "JPEG"
    bad = api.get(f"/api/images/{stored_image.id}/download/", {"format": "tiff"})
    assert bad.status_code == 400
    assert bad.json()["errors"][0]["field"] == "format"


def test_download_of_a_row_without_files_is_404(api, rows):
    assert api.get(f"/api/images/{rows[0].id}/download/").status_code == 404
    assert api.get(f"/api/images/{rows[0].id}/download/", {"format": "jpeg"}).status_code == 404


def test_staff_edit_makes_a_curated_caption_with_a_revision(staff_api, staff, rows):
    image = rows[0]
    response = staff_api.patch(
        f"/api/images/{image.id}/", {"caption": "a curated caption", "category": "best", "hidden": True}, format="json"
    )
    assert response.status_code == 200, response.json()
    body = response.json()
    assert (body["caption"], body["caption_curated"], body["category"], body["hidden"]) == (
        "a curated caption",
        True,
        "best",
        True,
    )
    revision = CaptionRevision.objects.filter(image=image).first()
    assert (revision.caption, revision.curated, revision.created_by) == ("a curated caption", True, staff)


def test_non_staff_cannot_edit_or_delete(api, rows):
    assert api.patch(f"/api/images/{rows[0].id}/", {"caption": "mine"}, format="json").status_code == 403
    assert api.delete(f"/api/images/{rows[0].id}/").status_code == 403
    assert Image.objects.get(id=rows[0].id).caption == "caption 0"


@pytest.mark.parametrize(
    ("payload", "field"),
    [({"category": "x" * 101}, "category"), ({"hidden": "maybe"}, "hidden"), ({"width": 3}, "width")],
)
def test_bad_edits_are_400(staff_api, rows, payload, field):
    response = staff_api.patch(f"/api/images/{rows[0].id}/", payload, format="json")
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == field


def test_staff_delete_removes_row_and_files(staff_api, stored_image, media_root, django_capture_on_commit_callbacks):
    files = [media_root / stored_image.file.name, media_root / stored_image.thumbnail.name]
    assert all(path.exists() for path in files)
    with django_capture_on_commit_callbacks(execute=True):
        response = staff_api.delete(f"/api/images/{stored_image.id}/")
    assert response.status_code == 204
    assert not Image.objects.filter(id=stored_image.id).exists()
    assert not any(path.exists() for path in files)
    assert staff_api.delete(f"/api/images/{stored_image.id}/").status_code == 404
