import pytest
from django.core.management import CommandError, call_command

from search.models import Image

pytestmark = pytest.mark.django_db


def _run(*args) -> str:
    from io import StringIO

    out = StringIO()
    call_command(*args, stdout=out, stderr=StringIO())
    return out.getvalue()


def test_simulate_inserts_builds_both_indexes_and_reports_them():
    output = _run(
        "simulate", "--count", "400", "--dim", "16", "--clusters", "4", "--halfvec", "--maintenance-work-mem", "64MB"
    )
    assert Image.objects.filter(embedding_model="simulated:n400-d16-k4-l16-s0").count() == 400
    assert "inserted 400 rows" in output
    assert "HNSW index (vector)" in output and "HNSW index (halfvec)" in output


def test_speed_prints_the_curve_halfvec_and_filtered_tables():
    _run("simulate", "--count", "400", "--dim", "16", "--clusters", "4", "--halfvec", "--maintenance-work-mem", "64MB")
    output = _run(
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
    assert "sim-1pct (1%) | 4 |" in output


def test_speed_says_which_simulate_command_is_missing():
    with pytest.raises(CommandError, match="simulate --count 999"):
        _run("speed", "--sizes", "999", "--only", "vectors")


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
        _run("simulate", *args)


def test_speed_prints_text_encoder_and_ingestion_tables():
    output = _run(
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
