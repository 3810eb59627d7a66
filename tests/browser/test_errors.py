"""Errors in plain words, next to the field: files checked in the browser before uploading, the chosen file kept
when the server refuses it, a note when pasted text is cut; a failed fetch explained with a retry button."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth.models import Permission, User

from search.models import Job, JobKind, JobState
from tests.browser.helpers import axe_check, sign_up

pytestmark = [pytest.mark.browser, pytest.mark.slow]

DNS_ERROR = "DNSError: DNSError('error sending request for url (https://duckduckgo.com/): query_class: IN }')"


def chosen_files(page) -> int:
    return page.locator("#id_image").evaluate("input => input.files.length")


def test_a_file_too_large_or_of_the_wrong_type_is_refused_before_uploading(transactional_db, live_asgi_server, browser):
    page = browser.new_context().new_page()
    sign_up(page, live_asgi_server, "uploader")
    requests = []
    page.on("request", lambda request: requests.append(request) if request.method == "POST" else None)
    big = {"name": "holiday.jpg", "mimeType": "image/jpeg", "buffer": b"\xff\xd8" + b"0" * (12 * 1024 * 1024)}
    page.get_by_label("…or an example image").set_input_files(big)
    error = page.locator("#image-error")
    assert "holiday.jpg” is 12 MB; pictures up to 10 MB can be used" in error.inner_text()
    page.get_by_role("button", name="Search", exact=True).click()
    assert page.url == f"{live_asgi_server}/" and not requests, "nothing was uploaded"

    page.get_by_label("…or an example image").set_input_files(
        {"name": "notes.txt", "mimeType": "text/plain", "buffer": b"hello"}
    )
    assert "is not a JPEG, PNG, WebP or GIF image" in error.inner_text()
    axe_check(page, "home page with a file error")


def test_a_refused_file_stays_chosen_and_the_reason_is_next_to_it(transactional_db, live_asgi_server, browser):
    page = browser.new_context().new_page()
    sign_up(page, live_asgi_server, "keeper")
    page.get_by_label("…or an example image").set_input_files(
        {"name": "q.jpg", "mimeType": "image/jpeg", "buffer": b"not really a jpeg"}
    )
    page.get_by_role("button", name="Search", exact=True).click()
    page.wait_for_selector("#image-error:not(:empty)")
    message = page.locator("#image-error").inner_text()
    assert "not an image that can be read" in message and "Pillow" not in message
    assert chosen_files(page) == 1, "the chosen file is kept"
    assert page.url == f"{live_asgi_server}/"


def test_pasted_text_cut_at_the_limit_is_noted(transactional_db, live_asgi_server, browser):
    page = browser.new_context().new_page()
    sign_up(page, live_asgi_server, "paster")
    page.locator("#id_q").evaluate(
        """input => { const data = new DataTransfer(); data.setData('text/plain', 'a red circle '.repeat(100));
        input.focus(); input.dispatchEvent(new ClipboardEvent('paste', {clipboardData: data, bubbles: true})); }"""
    )
    note = page.locator("#q-note")
    assert note.is_visible() and "shortened to 1,000 characters" in note.inner_text()


def test_a_failed_fetch_says_why_in_one_sentence_and_can_be_retried(transactional_db, live_asgi_server, browser):
    page = browser.new_context().new_page()
    sign_up(page, live_asgi_server, "fetcher")
    user = User.objects.get(username="fetcher")
    user.user_permissions.add(Permission.objects.get(content_type__app_label="search", codename="add_image"))
    job = Job.objects.create(
        kind=JobKind.FETCH, user=user, query="red pandas", params={"count": 5}, state=JobState.FAILED, message=DNS_ERROR
    )
    page.goto(f"{live_asgi_server}/")
    page.get_by_role("navigation", name="Site").get_by_role("link", name="Fetch", exact=True).click()
    page.wait_for_url(re.compile(r"/fetch/$"))
    page.goto(f"{live_asgi_server}/fetch/jobs/{job.pk}/")
    problem = page.get_by_role("alert").filter(has_text="could not be reached")
    assert problem.is_visible()
    assert not page.get_by_text("DNSError").first.is_visible(), "the raw exception hides under Technical details"
    axe_check(page, "failed fetch job")
    page.get_by_role("button", name="Try again").click()
    page.wait_for_url(re.compile(r"/fetch/jobs/\d+/$"))
    retried = Job.objects.exclude(pk=job.pk).get()
    assert (retried.query, retried.params["count"], page.url.endswith(f"/fetch/jobs/{retried.pk}/")) == (
        "red pandas",
        5,
        True,
    )


def test_fetch_is_in_the_navigation_only_for_those_who_may_add_images(transactional_db, live_asgi_server, browser):
    page = browser.new_context().new_page()
    sign_up(page, live_asgi_server, "reader")
    assert page.get_by_role("navigation", name="Site").get_by_role("link", name="Fetch", exact=True).count() == 0
