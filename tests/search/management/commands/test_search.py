"""manage.py search: ranked results; bad queries are command errors."""

import pytest
from django.core.management import CommandError, call_command

from tests.factories import command_output

pytestmark = pytest.mark.django_db


def test_search_prints_ranked_results(folder):
    command_output("ingest", str(folder))
    output = command_output("search", "--image", str(folder / "beach" / "1.jpg"), "-k", "2")
    lines = output.strip().splitlines()
    assert lines[0].startswith("2 results from imagesearch-tiny:")
    assert "1.jpg" in lines[1] and "[beach]" in lines[1]


def test_search_reports_bad_queries_as_command_errors():
    with pytest.raises(CommandError, match="query: Describe"):
        call_command("search", "")
    with pytest.raises(CommandError, match="top_k"):
        call_command("search", "cat", "-k", "500")
