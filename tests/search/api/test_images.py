import datetime as dt
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image as PILImage
from rest_framework.test import APIClient

from accounts.services import token_create
from search.models import CaptionRevision, Image
from tests.factories import image_row, noise_image_bytes, photo_bytes, png_bomb_bytes, unit_vector

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


def dated_rows(encoder):
    days = [5, 2, 9, 3]
    return [
        image_row(
            vector=unit_vector(encoder.dim, 700 + day),
            model_key=encoder.model_key,
            taken_at=dt.datetime(2024, 6, day, tzinfo=dt.UTC),
            camera_model="iPhone 15" if day % 2 else "Pixel 8",
            latitude=10.0 * day,
            longitude=5.0,
        )
        for day in days
    ]


def test_browsing_by_date_taken_pages_in_order_and_leaves_undated_out(api, rows, encoder):
    dated = dated_rows(encoder)
    newest = api.get("/api/images/", {"sort": "taken", "page_size": 3}).json()
    second = api.get(newest["next"]).json()
    order = [image["id"] for image in newest["results"] + second["results"]]
    assert order == [row.id for row in sorted(dated, key=lambda row: row.taken_at, reverse=True)]
    oldest = api.get("/api/images/", {"sort": "taken_oldest"}).json()["results"]
    assert [image["taken_at"] for image in oldest] == sorted(image["taken_at"] for image in oldest)


def test_listing_shows_photo_metadata_and_filters_by_it(api, rows, encoder):
    dated = dated_rows(encoder)
    body = api.get("/api/images/", {"camera": "iphone", "taken_after": "2024-06-02", "bbox": "0,0,60,10"}).json()
    assert [image["id"] for image in body["results"]] == [row.id for row in dated if row.taken_at.day in (3, 5)][::-1]
    first = body["results"][0]
    assert first["camera_model"] == "iPhone 15" and first["latitude"] == 30.0 and first["taken_at"].startswith("2024")


@pytest.mark.parametrize(("params", "field"), [({"bbox": "a,b,c,d"}, "bbox"), ({"sort": "random"}, "sort")])
def test_bad_browsing_filters_are_400(api, rows, params, field):
    response = api.get("/api/images/", params)
    assert response.status_code == 400 and response.json()["errors"][0]["field"] == field


# --- Adding images: POST /api/images/ and GET /api/jobs/<id>/ ---------------------------------------------------------


def upload_files(*pairs):
    return [SimpleUploadedFile(name, data, content_type="application/octet-stream") for name, data in pairs]


def test_upload_a_small_batch_answers_each_file_in_order(contributor_api, encoder, media_root):
    files = upload_files(
        ("a.jpg", noise_image_bytes(41)),
        ("notes.pdf", b"%PDF-1.4 not an image"),
        ("b.png", noise_image_bytes(42, fmt="PNG")),
        ("a-again.jpg", noise_image_bytes(41)),
        ("bomb.png", png_bomb_bytes()),
    )
    response = contributor_api.post("/api/images/", {"files": files, "category": "holiday"}, format="multipart")
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["job"] is None
    states = [(outcome["name"], outcome["state"]) for outcome in body["results"]]
    assert states == [
        ("a.jpg", "added"),
        ("notes.pdf", "refused"),
        ("b.png", "added"),
        ("a-again.jpg", "present"),
        ("bomb.png", "refused"),
    ]
    assert "not an image" in body["results"][1]["reason"] and "bomb" in body["results"][4]["reason"]
    added = Image.objects.get(id=body["results"][0]["image_id"])
    assert (added.source, added.category, added.original_name) == ("upload", "holiday", "a.jpg")
    assert body["results"][3]["image_id"] == added.id and Image.objects.count() == 2
    stored = {path.name for path in (media_root / "images").rglob("*") if path.is_file()}
    assert len(stored) == 2  # the refused files left nothing behind


def test_upload_reads_heic_and_photo_metadata(contributor_api, encoder):
    files = upload_files(("phone.heic", noise_image_bytes(43, fmt="HEIF")), ("paris.jpg", photo_bytes()))
    body = contributor_api.post("/api/images/", {"files": files}, format="multipart").json()
    assert [outcome["state"] for outcome in body["results"]] == ["added", "added"]
    paris = Image.objects.get(original_name="paris.jpg")
    assert paris.camera_model == "Canon EOS 5D Mark IV" and paris.taken_at is not None


def test_a_large_batch_becomes_a_job_readable_through_the_api(
    contributor_api, encoder, settings, eager, media_root, django_capture_on_commit_callbacks
):
    settings.UPLOAD_SYNC_MAX_FILES = 2
    files = upload_files(*[(f"{n}.jpg", noise_image_bytes(50 + n)) for n in range(4)], ("bad.jpg", b"nope"))
    with django_capture_on_commit_callbacks(execute=True):
        response = contributor_api.post("/api/images/", {"files": files}, format="multipart")
    assert response.status_code == 202, response.content
    body = response.json()
    assert [outcome["state"] for outcome in body["results"]] == ["queued"] * 4 + ["refused"]
    job = contributor_api.get(body["job"]["url"]).json()
    assert (job["kind"], job["state"], job["total"], job["done"]) == ("upload", "succeeded", 4, 4)
    assert sorted(Image.objects.values_list("original_name", flat=True)) == ["0.jpg", "1.jpg", "2.jpg", "3.jpg"]
    assert not list((media_root / "uploads").rglob("*.*")) and not any(
        path.is_file() for path in (media_root / "uploads").rglob("*")
    )  # every staged file went once its item was finished


def test_uploading_needs_the_add_image_permission(api, encoder):
    response = api.post("/api/images/", {"files": upload_files(("a.jpg", noise_image_bytes(1)))}, format="multipart")
    assert response.status_code == 403 and "search.add_image" in response.json()["errors"][0]["message"]
    assert not Image.objects.exists()


def test_a_read_only_token_cannot_upload(contributor, encoder):
    key = token_create(user=contributor, name="ro", read_only=True).key
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    response = client.post("/api/images/", {"files": upload_files(("a.jpg", noise_image_bytes(1)))})
    assert response.status_code == 403 and "read-only" in response.json()["errors"][0]["message"]


def test_an_upload_without_files_is_a_400(contributor_api):
    response = contributor_api.post("/api/images/", {"category": "x"}, format="multipart")
    assert response.status_code == 400 and response.json()["errors"][0]["field"] == "files"


def test_someone_elses_job_is_a_404(contributor_api, other_api, settings, eager, encoder):
    settings.UPLOAD_SYNC_MAX_FILES = 0
    body = contributor_api.post(
        "/api/images/", {"files": upload_files(("a.jpg", noise_image_bytes(1)))}, format="multipart"
    ).json()
    assert other_api.get(body["job"]["url"]).status_code == 404
    assert contributor_api.get("/api/jobs/999999/").status_code == 404
