"""End to end in headless Chromium against daphne: sign up, search, refine without a reload, download, log out."""

from __future__ import annotations

import io
import re

import pytest
from PIL import Image as PILImage

from tests.browser.helpers import shown_ids, sign_up

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def test_search_refine_download_and_privacy(transactional_db, collection, live_asgi_server, browser, tmp_path):
    base = live_asgi_server
    context = browser.new_context(viewport={"width": 1280, "height": 900}, accept_downloads=True)
    page = context.new_page()
    sign_up(page, base, "ada")

    page.get_by_label("Describe it").fill("a red circle")
    page.get_by_role("button", name="Search").click()
    page.wait_for_url(re.compile(r"/sessions/\d+/$"))
    session_url = page.url
    page.wait_for_selector("body[data-socket=open]")
    first_ids = shown_ids(page)
    assert len(first_ids) == len(collection)

    # Refine over the websocket: a marker on window survives only if the page is not reloaded.
    page.evaluate("window.__sameDocument = 'yes'")
    cards = page.locator("#result-grid .result")
    cards.nth(0).get_by_role("checkbox", name="Relevant", exact=True).check()
    cards.nth(1).get_by_role("checkbox", name="Not relevant", exact=True).check()
    page.get_by_label("Feedback", exact=True).fill("no squares")
    page.get_by_role("button", name="Refine").click()
    page.wait_for_selector('#turn-results[data-turn-position="2"]')
    assert page.evaluate("window.__sameDocument") == "yes"
    assert page.url.endswith("?turn=2")
    second_ids = shown_ids(page)
    assert first_ids[0] not in second_ids and first_ids[1] not in second_ids, "judged images are not shown again"
    assert page.locator(".turn-tree li").count() == 2

    # The lightbox, and a JPEG download from it.
    cards.nth(0).locator("a.thumb").click()
    lightbox = page.locator("#lightbox")
    assert lightbox.is_visible()
    with page.expect_download() as download_info:
        page.get_by_role("link", name="Download JPEG").click()
    download = download_info.value
    assert download.suggested_filename.endswith(".jpg")
    saved = tmp_path / download.suggested_filename
    download.save_as(saved)
    jpeg = PILImage.open(io.BytesIO(saved.read_bytes()))
    jpeg.load()
    assert jpeg.format == "JPEG"
    page.keyboard.press("Escape")

    # More like this, from the lightbox of the first result.
    cards.nth(0).locator("a.thumb").click()
    chosen = int(cards.nth(0).get_attribute("data-image-id"))
    page.locator("#lightbox-more").click()
    page.wait_for_selector('#turn-results[data-turn-position="3"]')
    assert shown_ids(page)[0] == chosen
    assert page.evaluate("window.__sameDocument") == "yes"

    page.get_by_role("button", name="Log out").click()
    page.wait_for_url(re.compile(r"/accounts/login/"))
    page.goto(session_url)
    assert "/accounts/login/" in page.url

    # Another user cannot open the first user's session.
    intruder = browser.new_context().new_page()
    sign_up(intruder, base, "eve")
    response = intruder.goto(session_url)
    assert response.status == 404
    context.close()


def test_refinement_works_without_the_websocket(transactional_db, collection, live_asgi_server, browser):
    context = browser.new_context()
    context.add_init_script("delete window.WebSocket")
    page = context.new_page()
    sign_up(page, live_asgi_server, "grace")
    page.get_by_label("Describe it").fill("a blue square")
    page.get_by_role("button", name="Search").click()
    page.wait_for_url(re.compile(r"/sessions/\d+/$"))
    assert page.locator("body").get_attribute("data-socket") == "closed"
    first = shown_ids(page)
    page.locator("#result-grid .result").nth(0).get_by_role("checkbox", name="Not relevant", exact=True).check()
    page.get_by_label("Feedback", exact=True).fill("blue")
    page.get_by_role("button", name="Refine").click()
    page.wait_for_url(re.compile(r"\?turn=2$"))
    assert page.locator('#turn-results[data-turn-position="2"]').count() == 1
    assert first[0] not in shown_ids(page)
    context.close()
