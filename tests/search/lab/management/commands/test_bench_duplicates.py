"""manage.py bench_duplicates: finds every planted group and leaves the database as it was."""

import pytest

from search.models import Image
from tests.factories import command_output

pytestmark = pytest.mark.django_db


def test_every_planted_group_is_found_and_nothing_is_kept():
    output = command_output("bench_duplicates", "--images", "200")
    assert "10 groups of sizes [3] (10 planted groups of 3)" in output
    assert not Image.objects.exists()
