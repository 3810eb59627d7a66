"""manage.py search: ranked results; bad queries are command errors."""

import json
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from search.models import Image
from tests.factories import command_output

pytestmark = pytest.mark.django_db


def test_search_prints_ranked_results(folder):
    command_output("ingest", str(folder))
    output = command_output("search", "--image", str(folder / "beach" / "1.jpg"), "-k", "2")
    lines = output.strip().splitlines()
    assert lines[0].startswith("2 results from imagesearch-tiny:")
    assert lines[1].startswith("  1. ") and len(lines) == 3


def test_search_reports_bad_queries_as_command_errors():
    with pytest.raises(CommandError, match="query: Describe"):
        call_command("search", "")
    with pytest.raises(CommandError, match="top_k"):
        call_command("search", "cat", "-k", "500")


def test_search_prints_file_paths_scores_and_captions(folder, media_root):
    command_output("ingest", str(folder))
    Image.objects.update(caption="a picture of the sea")
    line = command_output("search", "--image", str(folder / "beach" / "1.jpg"), "-k", "1").splitlines()[1]
    rank, score, path, caption = line.split(maxsplit=3)
    assert rank == "1." and 0.99 <= float(score) <= 1.0001
    assert Path(path).is_file() and Path(path).is_relative_to(media_root) and caption == "a picture of the sea"


def test_search_json_for_scripts(folder):
    command_output("ingest", str(folder))
    document = json.loads(command_output("search", "--image", str(folder / "beach" / "1.jpg"), "-k", "3", "--json"))
    assert set(document) == {"query", "mode", "model", "results"} and len(document["results"]) == 3
    first = document["results"][0]
    assert set(first) == {"rank", "id", "score", "file", "caption", "category"} and first["category"] == "beach"
    assert Path(first["file"]).is_file()


def test_search_hybrid_mode_and_photo_filters(folder):
    command_output("ingest", str(folder))
    image = Image.objects.first()
    Image.objects.filter(id=image.id).update(
        caption="a zebra crossing", camera_model="iPhone 15", taken_at="2024-06-01T10:00:00Z"
    )
    hybrid = json.loads(command_output("search", "zebra", "--mode", "hybrid", "-k", "3", "--json"))
    assert hybrid["mode"] == "hybrid" and hybrid["results"][0]["id"] == image.id
    filtered = json.loads(command_output("search", "anything", "--camera", "iphone", "--after", "2024-05-01", "--json"))
    assert [row["id"] for row in filtered["results"]] == [image.id]
    assert json.loads(command_output("search", "anything", "--has-location", "--json"))["results"] == []


def test_search_refuses_bad_filters():
    with pytest.raises(CommandError, match="bbox"):
        call_command("search", "cat", "--bbox", "50,0,40,1")
