"""axe-core on every page a user reaches (anonymous, signed in, with and without results, dialogs open): no serious
or critical violation. The summary (pages and the rules that still report minor or moderate findings) is printed
at the end and, with AXE_SUMMARY=path, written there."""

from __future__ import annotations

import json
import os
import re

import pytest
from django.contrib.auth.models import Permission, User

from search.models import Job, JobKind, JobState
from tests.browser.helpers import AXE_SUMMARY, axe_check, search, sign_up

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def test_every_page_has_no_serious_or_critical_axe_violation(transactional_db, collection, live_asgi_server, browser):
    base = live_asgi_server
    page = browser.new_context(viewport={"width": 1280, "height": 860}).new_page()
    page.goto(f"{base}/accounts/login/")
    axe_check(page, "log in")
    page.goto(f"{base}/accounts/signup/")
    axe_check(page, "sign up")
    page.goto(f"{base}/accounts/password/reset/")
    axe_check(page, "password reset")
    sign_up(page, base, "axel")
    user = User.objects.get(username="axel")
    user.user_permissions.add(Permission.objects.get(content_type__app_label="search", codename="add_image"))

    page.goto(f"{base}/")
    axe_check(page, "home")
    search(page, "a red circle")
    axe_check(page, "session")
    page.locator("#result-grid .result a.thumb").first.click()
    axe_check(page, "session, lightbox open")
    page.keyboard.press("Escape")
    page.get_by_text("Fine-tune").click()
    axe_check(page, "session, fine-tune open")
    session_url = page.url
    page.goto(f"{base}/sessions/")
    axe_check(page, "history")
    page.goto(session_url + "delete/")
    axe_check(page, "delete a session")
    page.goto(f"{base}/fetch/")
    axe_check(page, "fetch")
    job = Job.objects.create(kind=JobKind.FETCH, user=user, query="owls", params={"count": 3}, state=JobState.FAILED)
    page.goto(f"{base}/fetch/jobs/{job.pk}/")
    axe_check(page, "fetch job (failed)")
    page.goto(f"{base}/upload/")
    axe_check(page, "upload")
    page.goto(f"{base}/accounts/tokens/")
    page.get_by_label("Name").fill("backup script")
    page.get_by_role("button", name="Create token").click()
    page.wait_for_selector("#new-key")
    axe_check(page, "API tokens, new key shown")
    page.goto(f"{base}/accounts/password/")
    axe_check(page, "change password")
    page.goto(f"{base}/sessions/999999/")
    axe_check(page, "not found")

    phone = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True).new_page()
    phone.goto(f"{base}/accounts/login/")
    phone.get_by_label("Username").fill("axel")
    phone.get_by_label("Password").fill("a-long-browser-passphrase-7")
    phone.get_by_role("button", name="Log in").click()
    phone.wait_for_url(re.compile(r"/$"))
    phone.get_by_role("button", name="Menu").click()
    axe_check(phone, "phone: home, menu open")
    phone.goto(session_url)
    phone.get_by_role("button", name=re.compile(r"^Turns")).click()
    axe_check(phone, "phone: session, turns drawer open")

    summary = {what: found for what, found in AXE_SUMMARY.items()}
    print("\naxe summary (rule: impact), no serious or critical on any page:")
    for what, found in summary.items():
        print(f"  {what}: {found or 'none'}")
    if os.environ.get("AXE_SUMMARY"):
        with open(os.environ["AXE_SUMMARY"], "w") as out:
            json.dump(summary, out, indent=1)
