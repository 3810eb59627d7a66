"""The upload page in headless Chromium: five files, one of them not a photo and one already indexed; each file's
outcome shows, the photos are in the collection, and the bad file left nothing behind."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission

from search.models import Image
from tests.factories import noise_image_bytes, photo_bytes

pytestmark = [pytest.mark.browser, pytest.mark.slow]

PASSWORD = "a-long-browser-passphrase-7"
SCREENSHOT = Path(__file__).resolve().parents[2] / "docs" / "screenshots" / "upload-desktop.png"


def log_in(page, base_url: str, username: str) -> None:
    page.goto(f"{base_url}/accounts/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(f"{base_url}/")


@pytest.fixture
def contributor(transactional_db):
    user = get_user_model().objects.create_user("uma", password=PASSWORD)
    user.user_permissions.add(Permission.objects.get(codename="add_image", content_type__app_label="search"))
    return user


def test_upload_five_files_one_bad_and_see_each_outcome(contributor, live_asgi_server, browser, tmp_path, encoder):
    files = {
        "beach.jpg": noise_image_bytes(71, size=(200, 150)),
        "paris.jpg": photo_bytes(size=(120, 90)),
        "phone.heic": noise_image_bytes(72, size=(160, 120), fmt="HEIF"),
        "notes.jpg": b"these are notes, not a photo",
        "beach-copy.jpg": noise_image_bytes(71, size=(200, 150)),
    }
    paths = []
    for name, data in files.items():
        (tmp_path / name).write_bytes(data)
        paths.append(str(tmp_path / name))

    page = browser.new_context(viewport={"width": 1280, "height": 860}).new_page()
    log_in(page, live_asgi_server, "uma")
    page.get_by_role("link", name="Add photos").click()
    page.wait_for_url(f"{live_asgi_server}/upload/")
    page.set_input_files("#upload-files", paths)
    page.wait_for_function(
        "document.querySelectorAll('.upload-item:not([data-state=sending])[data-state]').length === 5"
    )

    states = page.locator(".upload-item").evaluate_all(
        "items => items.map(i => [i.querySelector('.upload-name').textContent, i.dataset.state,"
        " i.querySelector('.upload-state').textContent])"
    )
    by_name = {name: (state, text) for name, state, text in states}
    assert by_name["beach.jpg"][0] == "added" and by_name["paris.jpg"][0] == "added"
    assert by_name["phone.heic"][0] == "added"
    assert by_name["notes.jpg"][0] == "refused" and "not an image" in by_name["notes.jpg"][1]
    assert by_name["beach-copy.jpg"] == ("present", "Already in the collection")
    assert "3 added" in page.locator("#upload-summary").text_content()
    assert sorted(Image.objects.values_list("original_name", flat=True)) == ["beach.jpg", "paris.jpg", "phone.heic"]
    assert Image.objects.get(original_name="paris.jpg").camera_model == "Canon EOS 5D Mark IV"
    if os.environ.get("UPDATE_SCREENSHOT") == "1":
        page.screenshot(path=str(SCREENSHOT))


def test_a_file_over_the_limit_is_refused_in_the_browser_before_sending(
    contributor, live_asgi_server, browser, tmp_path, settings
):
    big = tmp_path / "huge.jpg"
    big.write_bytes(b"\xff\xd8" + b"\0" * (51 * 1024 * 1024))  # over IMAGE_MAX_BYTES (50 MB)
    page = browser.new_context().new_page()
    requests = []
    page.on("request", lambda request: request.method == "POST" and requests.append(request.url))
    log_in(page, live_asgi_server, "uma")
    page.goto(f"{live_asgi_server}/upload/")
    page.set_input_files("#upload-files", [str(big)])
    page.wait_for_selector(".upload-item[data-state=refused]")
    assert "over the limit" in page.locator(".upload-state").text_content()
    assert not [url for url in requests if "/api/images/" in url]


def test_the_upload_page_needs_the_add_image_permission(transactional_db, live_asgi_server, browser):
    get_user_model().objects.create_user("vic", password=PASSWORD)
    page = browser.new_context().new_page()
    log_in(page, live_asgi_server, "vic")
    assert page.get_by_role("link", name="Add photos").count() == 0
    assert page.goto(f"{live_asgi_server}/upload/").status == 403
