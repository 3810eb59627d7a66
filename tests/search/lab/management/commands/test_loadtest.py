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


@pytest.mark.django_db(transaction=True)  # the served stack reads the collection over its own connections
def test_a_simulated_collection_is_served_and_every_search_finds_its_rows(settings):
    from search.encoder import get_encoder

    settings.VECTOR_INDEX = "bit"  # the served stack searches the bit index and re-ranks in one scan

    dim = get_encoder().dim  # the stack's encoder (the same settings) makes vectors of this length
    command_output("simulate", "--count", "300", "--dim", str(dim), "--clusters", "3", "--bit")
    key = f"simulated:n300-d{dim}-k3-l16-s0"
    output = command_output("loadtest", "--collection", key, "--seconds", "1", "--clients", "2", "--processes", "1")
    rows = [line for line in output.splitlines() if line.startswith("| 1 |")]
    assert len(rows) == 2 and all(line.rstrip().endswith("| 0 |") for line in rows)
    assert "errors over the whole run: 0" in output and "answers without results: 0" in output


def test_a_collection_that_is_not_there_is_refused_by_name():
    from django.core.management import CommandError

    with pytest.raises(CommandError, match="no collection simulated:n9-d1-k1-l16-s0"):
        command_output("loadtest", "--collection", "simulated:n9-d1-k1-l16-s0")
    with pytest.raises(CommandError, match="simulated"):
        command_output("loadtest", "--collection", "ViT-B-32:laion2b_s34b_b79k")
