"""Libraries indexed in place: ingest --in-place keeps files where they are; a rescan adds, re-embeds, follows moves,
marks missing files, and never reads an unchanged file."""

import os

import pytest
from django.core.management import CommandError, call_command

from search.libraries import library_name
from search.models import Image
from search.query import SearchScope
from search.selectors.vector import search_by_vector
from search.services import libraries as rescan_module
from search.services.images import image_delete
from search.services.libraries import libraries_rescan
from tests.factories import command_output, noise_image_bytes, photo_bytes

pytestmark = pytest.mark.django_db


@pytest.fixture
def library(tmp_path, settings):
    root = tmp_path / "Pictures"
    (root / "2024").mkdir(parents=True)
    (root / "2024" / "a.jpg").write_bytes(noise_image_bytes(1))
    (root / "2024" / "b.png").write_bytes(noise_image_bytes(2, fmt="PNG"))
    (root / "c.jpg").write_bytes(photo_bytes())
    settings.LIBRARY_PATHS = [str(root)]
    return root


def rows_by_path():
    return {name.removeprefix("library:"): image_id for image_id, name in Image.objects.values_list("id", "file")}


def test_ingest_in_place_keeps_the_files_where_they_are(library, media_root, encoder):
    command_output("ingest", str(library), "--in-place")
    assert set(rows_by_path()) == {
        str(library / "2024" / "a.jpg"),
        str(library / "2024" / "b.png"),
        str(library / "c.jpg"),
    }
    assert not (media_root / "images").exists()  # no original was copied
    image = Image.objects.get(original_name="c.jpg")
    assert image.file.name == library_name(library / "c.jpg") and image.file_mtime is not None
    assert image.camera_model == "Canon EOS 5D Mark IV" and image.category == ""
    assert Image.objects.get(original_name="a.jpg").category == "2024"
    with image.file.open("rb") as handle:
        assert handle.read() == (library / "c.jpg").read_bytes()
    assert image.thumbnail.storage.exists(image.thumbnail.name)


def test_in_place_needs_a_configured_library(tmp_path, settings):
    settings.LIBRARY_PATHS = []
    with pytest.raises(CommandError, match="LIBRARY_PATHS"):
        call_command("ingest", str(tmp_path), "--in-place")
    with pytest.raises(CommandError, match="LIBRARY_PATHS"):
        call_command("rescan")


def test_deleting_an_in_place_image_never_deletes_the_photo(library, encoder):
    command_output("ingest", str(library), "--in-place")
    image_delete(image=Image.objects.get(original_name="c.jpg"))
    assert (library / "c.jpg").exists()


def test_rescan_adds_reembeds_follows_moves_and_marks_missing(library, encoder, django_capture_on_commit_callbacks):
    command_output("ingest", str(library), "--in-place")
    before = rows_by_path()
    changed_row = Image.objects.get(original_name="a.jpg")

    (library / "new.jpg").write_bytes(noise_image_bytes(9))  # added
    (library / "2024" / "a.jpg").write_bytes(noise_image_bytes(10))  # changed content, same path
    (library / "moved").mkdir()
    (library / "2024" / "b.png").rename(library / "moved" / "b.png")  # moved
    (library / "c.jpg").unlink()  # deleted

    with django_capture_on_commit_callbacks(execute=True):
        report = libraries_rescan(encoder=encoder)
    assert (report.added, report.changed, report.moved, report.missing, report.unchanged) == (1, 1, 1, 1, 0)
    after = rows_by_path()
    assert after[str(library / "moved" / "b.png")] == before[str(library / "2024" / "b.png")]  # the row followed
    assert after[str(library / "2024" / "a.jpg")] == changed_row.id
    changed = Image.objects.get(id=changed_row.id)
    assert changed.sha256 != changed_row.sha256 and changed.thumbnail.name != changed_row.thumbnail.name
    assert not changed_row.thumbnail.storage.exists(changed_row.thumbnail.name)  # the old thumbnail went
    gone = Image.objects.get(original_name="c.jpg")
    assert gone.missing
    hits = search_by_vector(changed.vector.embedding, scope=SearchScope(top_k=10), model_key=encoder.model_key)
    assert gone.id not in [hit.id for hit in hits] and changed.id == hits[0].id

    (library / "c.jpg").write_bytes(photo_bytes())  # it comes back
    again = libraries_rescan(encoder=encoder)
    assert (again.added, again.moved) == (0, 0) and not Image.objects.get(id=gone.id).missing


def test_a_file_that_disappeared_is_a_clear_404_not_a_500(library, encoder, auth_client):
    command_output("ingest", str(library), "--in-place")
    image = Image.objects.get(original_name="c.jpg")
    assert auth_client.get(f"/images/{image.id}/original/").status_code == 200
    assert auth_client.get(f"/images/{image.id}/download/?format=jpeg").status_code == 200
    (library / "c.jpg").unlink()
    for suffix in ("original/", "download/", "download/?format=jpeg"):
        response = auth_client.get(f"/images/{image.id}/{suffix}")
        assert response.status_code == 404, suffix
    assert auth_client.get(f"/images/{image.id}/thumbnail/").status_code == 200  # kept in media storage


def test_unchanged_files_are_only_looked_at(library, encoder, monkeypatch):
    command_output("ingest", str(library), "--in-place")

    def must_not_read(*args, **kwargs):
        raise AssertionError("an unchanged file was read")

    monkeypatch.setattr(rescan_module, "file_sha256", must_not_read)
    monkeypatch.setattr(rescan_module, "read_candidate", must_not_read)
    report = libraries_rescan(encoder=encoder)
    assert (report.unchanged, report.added, report.changed, report.missing) == (3, 0, 0, 0)


def test_a_touched_file_with_the_same_content_is_not_embedded_again(library, encoder, monkeypatch):
    command_output("ingest", str(library), "--in-place")
    os.utime(library / "c.jpg", (1_700_000_000, 1_700_000_000))
    monkeypatch.setattr(rescan_module, "read_candidate", lambda *a, **k: pytest.fail("same content re-read"))
    report = libraries_rescan(encoder=encoder)
    assert (report.touched, report.changed) == (1, 0)
    assert Image.objects.get(original_name="c.jpg").file_mtime == 1_700_000_000


def test_an_unmounted_library_leaves_its_photos_alone(library, encoder, settings, tmp_path):
    command_output("ingest", str(library), "--in-place")
    library.rename(tmp_path / "unmounted")
    report = libraries_rescan(encoder=encoder)
    assert report.missing == 0 and "not there" in report.failed[0][1]
    assert not Image.objects.filter(missing=True).exists()


def test_a_background_rescan_leaves_new_photos_to_a_job(library, encoder, eager, django_capture_on_commit_callbacks):
    (library / "2024" / "a.jpg").unlink()
    with django_capture_on_commit_callbacks(execute=True):
        report = libraries_rescan(encoder=encoder, background=True)
    assert (report.queued, report.added) == (2, 0)
    assert {image.file.name for image in Image.objects.all()} == {
        library_name(library / "2024" / "b.png"),
        library_name(library / "c.jpg"),
    }


def test_the_rescan_command_prints_its_report(library, encoder):
    command_output("ingest", str(library), "--in-place")
    assert command_output("rescan").startswith("3 unchanged, 0 added")
