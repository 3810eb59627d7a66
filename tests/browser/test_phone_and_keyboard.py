"""Phones (390x844, touch) and keyboards: a collapsible navigation, the turns in a drawer, the lightbox with
previous/next buttons and swipes that never blows a small picture up, 44 px touch targets, a skip link."""

from __future__ import annotations

import pytest

from tests.browser.helpers import axe_check, search, shown_ids, sign_up

pytestmark = [pytest.mark.browser, pytest.mark.slow]

PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True, "device_scale_factor": 2}


def box(locator) -> dict:
    return locator.bounding_box()


def test_on_a_phone_navigation_collapses_turns_sit_in_a_drawer_and_the_lightbox_steps(
    transactional_db, collection, live_asgi_server, browser
):
    page = browser.new_context(**PHONE).new_page()
    sign_up(page, live_asgi_server, "phoebe")
    nav = page.get_by_role("navigation", name="Site")
    menu = page.get_by_role("button", name="Menu")
    assert not nav.get_by_role("link", name="History").is_visible()
    assert box(page.locator(".site-header"))["height"] <= 64, "the header is one line"
    menu.click()
    assert menu.get_attribute("aria-expanded") == "true" and nav.get_by_role("link", name="History").is_visible()
    menu.click()

    search(page, "a red circle")
    assert box(page.locator("#result-grid .result").first)["y"] < 417, "the first result starts higher than before"
    turns = page.locator("#turn-column")
    assert not turns.is_visible()
    drawer = page.get_by_role("button", name="Turns (1)")
    drawer.click()
    assert turns.is_visible() and drawer.get_attribute("aria-expanded") == "true"
    page.get_by_role("button", name="Close").click()
    page.wait_for_function("getComputedStyle(document.getElementById('turn-column')).visibility === 'hidden'")

    ids = shown_ids(page)
    page.locator("#result-grid .result a.thumb").first.tap()
    lightbox = page.locator("#lightbox")
    image = page.locator("#lightbox-image")
    image.evaluate("img => img.complete || new Promise(done => img.onload = done)")
    natural, shown = image.evaluate("img => [img.naturalWidth, img.getBoundingClientRect().width]")
    assert shown <= natural, f"a {natural}px picture is shown at {shown}px: never upscaled"
    assert not page.locator(".key-hint").is_visible(), "no keyboard hint on a touch screen"
    for control in ("Next picture", "Previous picture", "Close", "Relevant"):
        size = box(lightbox.get_by_role("button", name=control, exact=True))
        assert size["height"] >= 44 and size["width"] >= 44, f"{control}: {size}"
    lightbox.get_by_role("button", name="Next picture").tap()
    assert page.locator("#lightbox-title").inner_text() == page.locator(
        f'.result[data-image-id="{ids[1]}"]'
    ).get_attribute("data-name")
    stage = box(page.locator("#lightbox-stage"))
    y = stage["y"] + stage["height"] / 2
    page.mouse.move(stage["x"] + stage["width"] * 0.8, y)
    page.mouse.down()
    page.mouse.move(stage["x"] + stage["width"] * 0.2, y, steps=5)
    page.mouse.up()
    assert page.locator("#lightbox-title").inner_text() == page.locator(
        f'.result[data-image-id="{ids[2]}"]'
    ).get_attribute("data-name"), "a swipe to the left shows the next picture"
    axe_check(page, "phone: lightbox open")


def test_a_skip_link_comes_first_and_leads_past_the_navigation(transactional_db, collection, live_asgi_server, browser):
    page = browser.new_context().new_page()
    sign_up(page, live_asgi_server, "keys")
    search(page, "a blue square")
    page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="Skip to content")
    assert skip.evaluate("link => link === document.activeElement") and skip.is_visible()
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "main"
    presses = 1
    while not page.evaluate("document.activeElement.id === 'feedback'") and presses < 30:
        page.keyboard.press("Tab")
        presses += 1
    assert presses <= 12, f"the refine box is {presses} Tabs from the top of the content"
    progress = page.locator("#results-progress progress")
    assert progress.get_attribute("aria-label") == "Updating the results"
