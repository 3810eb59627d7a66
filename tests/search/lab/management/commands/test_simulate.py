"""manage.py simulate: loads a synthetic collection and builds its indexes; bad arguments are refused."""

import pytest
from django.core.management import CommandError

from search.models import Image
from tests.factories import command_output

pytestmark = pytest.mark.django_db


def test_simulate_inserts_builds_the_searched_index_and_those_asked_for(settings):
    settings.VECTOR_INDEX = "bit"
    output = command_output(
        "simulate", "--count", "400", "--dim", "16", "--clusters", "4", "--vector", "--maintenance-work-mem", "64MB"
    )
    assert Image.objects.filter(vector__embedding_model="simulated:n400-d16-k4-l16-s0").count() == 400
    assert "inserted 400 rows" in output
    assert "HNSW index (bit)" in output and "HNSW index (vector)" in output and "(halfvec)" not in output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--count", "0"], "positive"),
        (["--drop"], "--model-key"),
        (["--drop", "--model-key", "ViT-B-32:laion2b_s34b_b79k"], "simulated"),
        (["--count", "5", "--model-key", "real-model"], "simulated"),
    ],
)
def test_simulate_refuses_bad_arguments(args, message):
    with pytest.raises(CommandError, match=message):
        command_output("simulate", *args)
