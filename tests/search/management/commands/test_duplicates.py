"""manage.py duplicates lists the groups."""

from io import StringIO

import pytest
from django.core.management import call_command

pytestmark = pytest.mark.django_db


def test_command_lists_the_groups(collection):
    out = StringIO()
    call_command("duplicates", "--threshold", "0.95", stdout=out)
    output = out.getvalue()
    assert "group 1: 3 images" in output and "night-q40.jpg" in output
    assert "1 groups (2 images to hide) among 5 images at threshold 0.95" in output
