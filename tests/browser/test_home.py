"""The home page for a new user: the collection's size, example queries to try, and a visible progress state
while a search runs (and while a refinement runs on the session page)."""

from __future__ import annotations

import re

import pytest

from search.models import Image
from tests.browser.helpers import sign_up

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def test_an_empty_home_page_says_what_the_collection_holds_and_what_to_type(
    transactional_db, collection, live_asgi_server, browser
):
    Image.objects.filter(pk=min(collection)).update(caption="a large red circle in the centre")
    page = browser.new_context().new_page()
    sign_up(page, live_asgi_server, "newcomer")
    assert page.get_by_role("heading", name=f"Search {len(collection)} images").is_visible()
    example = page.get_by_role("button", name="a large red circle in the centre")
    assert example.is_visible()
    held = []  # the search request, held back so the page's waiting state can be seen

    def hold(route):
        if route.request.method == "POST" and not held:
            held.append(route)
        else:
            route.fallback()

    page.route(re.compile(r"/$"), hold)
    example.click()
    page.wait_for_selector(".form-progress:not([hidden])")
    assert page.get_by_role("button", name="Searching…").is_disabled()
    assert page.get_by_role("progressbar", name="Searching").is_visible()
    held[0].fallback()
    page.wait_for_url(re.compile(r"/sessions/\d+/$"))
    assert page.get_by_label("Description").input_value() == "a large red circle in the centre"

    page.wait_for_selector("body[data-socket=open]")
    page.get_by_label("Feedback", exact=True).fill("no squares")
    busy = page.evaluate(
        "() => { document.getElementById('refine-button').click();"
        " return [!document.getElementById('results-progress').hidden,"
        " document.getElementById('refine-button').textContent]; }"
    )
    assert busy == [True, "Refining…"]
    page.wait_for_selector('#turn-results[data-turn-position="2"]')
    assert page.locator("#results-progress").is_hidden()
