"""manage.py fetch: fetches and indexes, reports a rate limit, refuses bad arguments."""

import pytest
from ddgs.exceptions import RatelimitException
from django.core.management import CommandError, call_command

from search.models import Image, Job

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("background_settings", "caption_requests")]


def test_the_command_fetches_and_indexes(local_web, fake_search, capsys):
    fake_search.urls = [local_web.url("/img/80.jpg"), local_web.url("/img/81.jpg"), local_web.url("/fake.jpg")]
    call_command("fetch", "red pandas", "--count", "5", "--category", "animals")
    out = capsys.readouterr().out
    assert "2 indexed, 1 skipped, 0 failed" in out
    assert f"skipped {local_web.url('/fake.jpg')}: not an image" in out
    assert set(Image.objects.values_list("category", flat=True)) == {"animals"}


def test_a_rate_limit_is_reported_as_such(fake_search, settings):
    settings.DDG_RETRIES = 0
    fake_search.failures = [RatelimitException("202 Ratelimit")]
    with pytest.raises(CommandError, match="DuckDuckGo is rate-limiting image searches"):
        call_command("fetch", "red pandas", "--count", "5")
    assert Job.objects.get().state == "failed"


def test_bad_arguments_are_refused(capsys):
    with pytest.raises(CommandError, match="Ask for 1 to"):
        call_command("fetch", "red pandas", "--count", "0")
