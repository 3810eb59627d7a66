"""The session page in Chromium: the editable query bar, refinements as removable chips, the turns as a tree with
thumbnails of the example image and of the picture a turn started from."""

from __future__ import annotations

import re

import pytest

from search.models import Image
from tests.browser.helpers import axe_check, search, shown_ids, sign_up
from tests.web_fixtures import shape_png

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def refine(page, feedback: str, position: int) -> None:
    page.get_by_label("Feedback", exact=True).fill(feedback)
    page.get_by_role("button", name="Refine").click()
    page.wait_for_selector(f'#turn-results[data-turn-position="{position}"]')


def chip_texts(page) -> list[str]:
    return page.locator(".chips .chip > span").all_inner_texts()


def test_refinements_are_chips_and_removing_one_searches_without_it(
    transactional_db, collection, live_asgi_server, browser
):
    page = browser.new_context().new_page()
    sign_up(page, live_asgi_server, "chips")
    search(page, "a red circle")
    assert page.get_by_label("Description").input_value() == "a red circle"
    refine(page, "no squares", 2)
    refine(page, "bigger", 3)
    assert chip_texts(page) == ["no squares", "bigger"]

    page.get_by_role("button", name="Remove “no squares”").click()
    page.wait_for_selector('#turn-results[data-turn-position="4"]')
    assert chip_texts(page) == ["bigger"]
    assert page.get_by_label("Description").input_value() == "a red circle"

    # The query bar starts a new search from the same page.
    page.get_by_label("Description").fill("a blue square")
    page.get_by_role("button", name="Search", exact=True).click()
    page.wait_for_selector('#turn-results[data-turn-position="5"]')
    assert page.locator(".chips .chip").count() == 0
    assert page.locator(".turn-tree .turn-node").count() == 5
    axe_check(page, "session page (chips, tree)")


def test_a_refinement_of_an_earlier_turn_is_a_branch_under_it(transactional_db, collection, live_asgi_server, browser):
    page = browser.new_context().new_page()
    sign_up(page, live_asgi_server, "branch")
    search(page, "a blue circle")
    refine(page, "no squares", 2)
    page.goto(re.sub(r"\?.*$", "", page.url) + "?turn=1")
    page.wait_for_selector("body[data-socket=open]")
    refine(page, "on the left", 3)
    first = page.locator('.turn-tree > li[data-position="1"]')
    assert first.locator(':scope > ul li[data-position="3"]').count() == 1, "turn 3 is a branch under turn 1"
    assert page.locator('.turn-tree > li[data-position="2"]').count() == 1, "turn 2 continues turn 1's line"
    assert page.locator('.turn-tree li.current[data-position="3"]').count() == 1


def test_turns_show_the_example_image_and_the_picture_they_started_from(
    transactional_db, collection, live_asgi_server, browser
):
    page = browser.new_context().new_page()
    sign_up(page, live_asgi_server, "thumbs")
    page.get_by_label("…or an example image").set_input_files(
        {"name": "mine.png", "mimeType": "image/png", "buffer": shape_png("red", "square", 99)}
    )
    page.get_by_role("button", name="Search", exact=True).click()
    page.wait_for_url(re.compile(r"/sessions/\d+/$"))
    page.wait_for_selector("body[data-socket=open]")
    query_thumb = page.get_by_role("img", name="Your example image", exact=True)
    assert query_thumb.evaluate("img => img.complete && img.naturalWidth > 0")
    assert page.locator('.turn-node[data-position="1"] img[alt="your example image"]').evaluate(
        "img => img.complete && img.naturalWidth > 0"
    )

    chosen = shown_ids(page)[2]
    card = page.locator(f'#result-grid .result[data-image-id="{chosen}"]')
    card.hover()
    card.get_by_role("button", name="More like this").click()
    page.wait_for_selector('#turn-results[data-turn-position="2"]')
    started = page.locator('.turn-node[data-position="2"] img[alt="the image it started from"]')
    assert started.get_attribute("src").endswith(f"/images/{chosen}/thumbnail/")
    assert page.get_by_role("img", name="The image this search started from", exact=True).count() == 1


def test_removing_a_refinement_keeps_the_searchs_filters(transactional_db, collection, live_asgi_server, browser):
    Image.objects.filter(pk__in=sorted(collection)[:6]).update(camera_model="Pixel 8")
    page = browser.new_context().new_page()
    sign_up(page, live_asgi_server, "filtered")
    page.get_by_label("Describe it").fill("a red circle")
    page.get_by_text("More options").click()
    page.get_by_label("Camera").fill("pixel")
    page.get_by_role("button", name="Search", exact=True).click()
    page.wait_for_selector("body[data-socket=open]")
    kept = page.get_by_role("list", name="Filters of this search")
    assert "camera “pixel”" in kept.inner_text()
    refine(page, "bigger", 2)
    page.get_by_role("button", name="Remove “bigger”").click()
    page.wait_for_selector('#turn-results[data-turn-position="3"]')
    assert "camera “pixel”" in kept.inner_text()
    assert set(shown_ids(page)) <= set(sorted(collection)[:6])
