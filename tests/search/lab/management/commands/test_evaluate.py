"""manage.py evaluate: the table, JSON and Markdown; an empty split is refused."""

import json
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

pytestmark = pytest.mark.django_db


def test_command_prints_table_and_writes_json_and_markdown(dataset, tmp_path):
    out, report, markdown = StringIO(), tmp_path / "report.json", tmp_path / "bench.md"
    markdown.write_text("# Benchmarks\n")
    call_command("evaluate", str(dataset), "--json", str(report), "--markdown", str(markdown), stdout=out)
    document = json.loads(report.read_text())
    names = [row["name"] for row in document["rows"]]
    assert names == [
        "text → image (exact)",
        "text → image (HNSW)",
        "text → image (exact), first caption of each image",
        "image → text (exact)",
        "text → image (HNSW), before feedback",
        "text → image (HNSW), after one feedback round",
        "text → image, vector only (other captions)",
        "text → image, hybrid (other captions)",
    ]
    assert document["images"] == 4 and document["model"].startswith("imagesearch-tiny:")
    assert "| text → image (HNSW) |" in out.getvalue()
    assert markdown.read_text().startswith("# Benchmarks\n") and "Command: `manage.py evaluate" in markdown.read_text()


def test_command_refuses_an_empty_split(dataset):
    with pytest.raises(CommandError, match="no images in split 'val'"):
        call_command("evaluate", str(dataset), "--split", "val", stdout=StringIO())
