"""manage.py ingest: a summary with the reasons files were skipped; a missing folder is an error."""

import pytest
from django.core.management import CommandError, call_command

from tests.factories import command_output

pytestmark = pytest.mark.django_db


def test_ingest_prints_a_summary_with_reasons(folder):
    output = command_output("ingest", str(folder))
    assert "added 3, already present 0, unreadable 1" in output
    assert "broken.jpg: not an image" in output
    assert "added 0, already present 3, unreadable 1" in command_output("ingest", str(folder))


def test_ingest_refuses_a_missing_folder(tmp_path):
    with pytest.raises(CommandError, match="is not a folder"):
        call_command("ingest", str(tmp_path / "nowhere"))
