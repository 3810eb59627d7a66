"""The results grid in Chromium: dense at laptop size, one tab stop per picture with arrow keys between them, the
selection bar (zip disabled until something is selected), marks summarised by Refine, and load more."""

from __future__ import annotations

import pytest

from search.lab.datasets.shapes import Scene, ShapeSpec
from tests.browser.helpers import axe_check, index_scenes, search, shown_ids, sign_up

pytestmark = [pytest.mark.browser, pytest.mark.slow]

LAPTOP = {"width": 1280, "height": 860}


@pytest.fixture
def gallery(encoder) -> list[int]:
    """36 pictures: more than one page of results, more than one laptop screen."""
    scenes = [
        Scene(objects=(ShapeSpec(shape, colour, "large", where),), background="white")
        for colour in ("red", "blue", "green", "yellow", "purple", "orange")
        for shape in ("circle", "square", "triangle")
        for where in ("left", "right")
    ]
    return index_scenes(scenes, encoder)


def fully_visible(page, selector: str) -> int:
    return page.locator(selector).evaluate_all(
        "els => els.filter(e => { const r = e.getBoundingClientRect();"
        " return r.top >= 0 && r.bottom <= innerHeight && r.left >= 0 && r.right <= innerWidth; }).length"
    )


def test_a_laptop_screen_shows_15_to_25_pictures_and_tab_stops_once_per_picture(
    transactional_db, gallery, live_asgi_server, browser
):
    page = browser.new_context(viewport=LAPTOP).new_page()
    sign_up(page, live_asgi_server, "dense")
    search(page, "a large red circle on the left")
    assert 15 <= fully_visible(page, "#result-grid .result") <= 25
    axe_check(page, "session page (results)")

    first = page.locator("#result-grid .result a.thumb").nth(0)
    first.focus()
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.closest('.result').dataset.imageId") == str(shown_ids(page)[1])
    page.keyboard.press("ArrowRight")
    assert page.evaluate("document.activeElement.closest('.result').dataset.imageId") == str(shown_ids(page)[2])
    columns = page.evaluate(
        "(() => { const c = [...document.querySelectorAll('#result-grid .result')];"
        " return c.filter(e => e.offsetTop === c[0].offsetTop).length; })()"
    )
    page.keyboard.press("ArrowDown")
    assert page.evaluate("document.activeElement.closest('.result').dataset.imageId") == str(
        shown_ids(page)[2 + columns]
    )
    ring = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
    assert ring != "none", "the focused picture shows a focus ring"


def test_selection_bar_download_and_marks(transactional_db, gallery, live_asgi_server, browser):
    page = browser.new_context(viewport=LAPTOP, accept_downloads=True).new_page()
    sign_up(page, live_asgi_server, "picker")
    search(page, "a blue square")
    download = page.get_by_role("button", name="Download (.zip)")
    assert download.is_disabled(), "nothing selected: no zip to download"

    cards = page.locator("#result-grid .result")
    for index in range(3):
        cards.nth(index).hover()
        cards.nth(index).get_by_role("checkbox", name="Select").check()
    assert page.locator("#selection-count").inner_text() == "3 selected"
    assert download.is_enabled()
    with page.expect_download() as info:
        download.click()
    assert info.value.suggested_filename.endswith(".zip")

    page.get_by_role("button", name="Relevant", exact=True).click()
    assert page.locator("#selection-count").inner_text() == "Nothing selected"
    assert "3 relevant" in page.locator("#marked-summary").inner_text()
    cards.nth(4).locator("a.thumb").focus()
    page.keyboard.press("n")
    assert "3 relevant, 1 not relevant" in page.locator("#marked-summary").inner_text()
    assert cards.nth(4).get_by_role("checkbox", name="Not relevant", exact=True).is_checked()


def test_an_empty_zip_request_gets_a_page_that_says_what_to_do(transactional_db, live_asgi_server, browser):
    page = browser.new_context().new_page()
    sign_up(page, live_asgi_server, "empty")
    response = page.goto(f"{live_asgi_server}/images/download.zip?format=jpeg")
    assert response.status == 400
    assert page.get_by_role("heading", name="Nothing to download yet").is_visible()
    assert "Select at least one image" in page.locator("main").inner_text()
    assert page.locator("link[rel=stylesheet]").count() == 1, "the site's own styled page"
    axe_check(page, "empty zip request")


def test_load_more_appends_the_next_results_until_none_are_left(transactional_db, gallery, live_asgi_server, browser):
    page = browser.new_context(viewport=LAPTOP).new_page()
    sign_up(page, live_asgi_server, "more")
    search(page, "a red triangle", k=8)
    first = shown_ids(page)
    assert len(first) == 8
    page.get_by_role("button", name="Load more").click()
    page.wait_for_function("document.querySelectorAll('#result-grid .result').length > 8")
    after = shown_ids(page)
    assert after[:8] == first and len(after) == 32 and len(set(after)) == 32
    page.get_by_role("button", name="Load more").click()
    page.wait_for_selector("text=That is every picture that matches.")
    assert sorted(shown_ids(page)) == sorted(gallery)
