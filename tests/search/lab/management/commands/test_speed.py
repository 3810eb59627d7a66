"""manage.py speed: the ef_search curve, halfvec and filtered tables, encoder and ingestion tables."""

import pytest
from django.core.management import CommandError

from search.lab.speed import reference
from search.models import Image
from tests.factories import command_output

pytestmark = pytest.mark.django_db


def test_speed_prints_the_curve_halfvec_and_filtered_tables(settings):
    settings.VECTOR_INDEX = "halfvec"  # simulate builds that one only: the vector curve says what is missing
    command_output("simulate", "--count", "400", "--dim", "16", "--clusters", "4", "--maintenance-work-mem", "64MB")
    output = command_output(
        "speed",
        "--sizes",
        "400",
        "--dim",
        "16",
        "--clusters",
        "4",
        "--queries",
        "5",
        "--ef",
        "10,40",
        "--only",
        "vectors,halfvec,filtered",
    )
    assert "| 40 | " in output and "recall@10 (halfvec index)" in output
    assert "(no vector index: run simulate with --vector)" in output and "(vector index)" not in output
    assert "sim-1pct (1%) | 4 |" in output


def test_speed_says_which_simulate_command_is_missing():
    with pytest.raises(CommandError, match="simulate --count 999"):
        command_output("speed", "--sizes", "999", "--only", "vectors")


def test_speed_prints_text_encoder_and_ingestion_tables():
    output = command_output(
        "speed",
        "--only",
        "text,ingest",
        "--clip-model",
        "imagesearch-tiny",
        "--text-rounds",
        "2",
        "--ingest-images",
        "2",
        "--ingest-sizes",
        "160x120",
    )
    assert "| truncation + int8, 1 thread |" in output and "| shipped settings (" in output
    assert "| reduced JPEG decode |" in output and "| bf16 weights, 2-thread decode pool |" in output
    assert "reduced JPEG decode (shipped) |" in output
    assert not Image.objects.exists()  # the timed ingests leave nothing behind


def test_speed_prints_the_hot_path_the_miss_breakdown_and_the_in_process_reference():
    command_output("simulate", "--count", "300", "--dim", "64", "--clusters", "4", "--maintenance-work-mem", "64MB")
    output = command_output(
        "speed",
        *("--sizes", "300", "--dim", "64", "--clusters", "4", "--queries", "12", "--ef", "20,80"),
        *("--only", "hotpath,breakdown,limit", "--clip-model", "imagesearch-tiny"),
    )
    assert "| raw SQL: the same SELECT" in output and "| ImageQuerySet.nearest(), first round (before) |" in output
    assert "| SQL: the vector search statement(s) |" in output and "| total |" in output
    if reference.faiss_available():  # requirements-lab.txt
        assert "| faiss HNSW in-process | 80 |" in output and "p50 / faiss p50: **" in output
    else:
        assert "(no faiss: `pip install -r requirements-lab.txt`" in output
