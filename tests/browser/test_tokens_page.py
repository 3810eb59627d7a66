"""The API tokens page: the new key copied with one button, Revoke asks first, the last use shown as a date."""

from __future__ import annotations

import pytest
from django.utils import timezone

from accounts.models import ApiToken
from tests.browser.helpers import sign_up

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def test_copy_the_new_key_and_confirm_before_revoking(transactional_db, live_asgi_server, browser):
    context = browser.new_context()
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=live_asgi_server)
    page = context.new_page()
    sign_up(page, live_asgi_server, "tokenuser")
    page.goto(f"{live_asgi_server}/accounts/tokens/")
    page.get_by_label("Name").fill("backup script")
    page.get_by_role("button", name="Create token").click()
    key = page.get_by_label("New API key").input_value()
    page.get_by_role("button", name="Copy").click()
    page.get_by_role("button", name="Copied").wait_for()  # the key is written to the clipboard first
    assert page.evaluate("navigator.clipboard.readText()") == key

    ApiToken.objects.filter(name="backup script").update(last_used_at=timezone.now())
    page.goto(f"{live_asgi_server}/accounts/tokens/")
    row = page.get_by_role("row").filter(has_text="backup script")
    assert timezone.now().strftime("%Y") in row.locator("time").last.inner_text()

    page.once("dialog", lambda dialog: dialog.dismiss())
    row.get_by_role("button", name="Revoke backup script").click()
    assert ApiToken.objects.filter(name="backup script").exists(), "dismissed: nothing revoked"
    messages = []
    page.once("dialog", lambda dialog: (messages.append(dialog.message), dialog.accept()))
    row.get_by_role("button", name="Revoke backup script").click()
    page.wait_for_selector("text=The token is revoked")
    assert "Revoke “backup script”?" in messages[0]
    assert page.get_by_role("row").filter(has_text="backup script").count() == 0
