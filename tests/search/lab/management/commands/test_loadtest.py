"""manage.py loadtest drives a stack of its own through the Procfile's web command and prints its table."""

import pytest

from tests.factories import command_output

pytestmark = [pytest.mark.system, pytest.mark.django_db]


def test_a_short_run_prints_a_row_per_measurement_and_no_error():
    output = command_output("loadtest", "--seconds", "1", "--clients", "1,4", "--processes", "1", "--images", "12")
    rows = [line for line in output.splitlines() if line.startswith("| 1 |")]
    assert len(rows) == 4  # miss and hit, 1 and 4 clients
    assert all(line.rstrip().endswith("| 0 |") for line in rows)
    assert "errors over the whole run: 0" in output
