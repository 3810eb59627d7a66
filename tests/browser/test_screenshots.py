"""Screenshots of the results page at a laptop and a phone size, for the README: UPDATE_SCREENSHOT=1 writes them to
docs/screenshots/ (results-<size>-<SCREENSHOT_NAME, default "after">.png, and results-desktop-refined.png: a
refinement with a selection, and home-<size>.png: a new user's home page); without it the test still drives the same
path."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from search.lab.datasets.shapes import Scene, ShapeSpec
from tests.browser.helpers import sign_up

pytestmark = [pytest.mark.browser, pytest.mark.slow]

SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
SIZES = {"desktop": {"width": 1280, "height": 860}, "phone": {"width": 390, "height": 844}}
COLOURS = ("red", "blue", "green", "yellow", "purple", "orange")
SHAPES = ("circle", "square", "triangle")


@pytest.fixture
def gallery(encoder):
    """36 pictures (each colour and shape, two positions): more than fit on one laptop screen."""
    from tests.browser.helpers import index_scenes

    scenes = [
        Scene(objects=(ShapeSpec(shape, colour, "large", where),), background="white")
        for colour in COLOURS
        for shape in SHAPES
        for where in ("left", "right")
    ]
    return index_scenes(scenes, encoder)


def test_the_results_page_at_laptop_and_phone_size(transactional_db, gallery, live_asgi_server, browser):
    name = os.environ.get("SCREENSHOT_NAME", "after")
    for size, viewport in SIZES.items():
        context = browser.new_context(viewport=viewport, device_scale_factor=1)
        page = context.new_page()
        sign_up(page, live_asgi_server, f"shot{size}")
        if name == "after":
            shoot(page, f"home-{size}.png")
        page.get_by_label("Describe it").fill("a large red circle on the left")
        page.get_by_role("button", name="Search").click()
        page.wait_for_url(re.compile(r"/sessions/\d+/$"))
        page.wait_for_load_state("networkidle")
        shoot(page, f"results-{size}-{name}.png")
        if size == "desktop":
            refined(page)
            shoot(page, "results-desktop-refined.png")
        context.close()


def shoot(page, name: str) -> None:
    if os.environ.get("UPDATE_SCREENSHOT") == "1":
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.mouse.move(0, 0)
        page.screenshot(path=str(SCREENSHOTS / name))


def refined(page) -> None:
    """A refinement with a chip, three pictures selected and one pointed at."""
    page.wait_for_selector("body[data-socket=open]")
    page.get_by_label("Feedback", exact=True).fill("no squares")
    page.get_by_role("button", name="Refine").click()
    page.wait_for_selector('#turn-results[data-turn-position="2"]')
    cards = page.locator("#result-grid .result")
    for index in (1, 2, 4):
        cards.nth(index).locator("a.thumb").focus()
        page.keyboard.press("x")
    cards.nth(0).locator("a.thumb").focus()
    page.keyboard.press("r")
    page.wait_for_load_state("networkidle")
