from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from search.models import Image
from tests.factories import noise_image_bytes

pytestmark = pytest.mark.django_db


def _run(*args) -> str:
    out = StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


@pytest.fixture
def folder(tmp_path):
    (tmp_path / "beach").mkdir()
    for seed in range(3):
        (tmp_path / "beach" / f"{seed}.jpg").write_bytes(noise_image_bytes(seed))
    (tmp_path / "broken.jpg").write_text("nope")
    return tmp_path


def test_ingest_prints_a_summary_with_reasons(folder):
    output = _run("ingest", str(folder))
    assert "added 3, already present 0, unreadable 1" in output
    assert "broken.jpg: not an image" in output
    assert "added 0, already present 3, unreadable 1" in _run("ingest", str(folder))


def test_ingest_refuses_a_missing_folder(tmp_path):
    with pytest.raises(CommandError, match="is not a folder"):
        call_command("ingest", str(tmp_path / "nowhere"))


def test_search_prints_ranked_results(folder):
    _run("ingest", str(folder))
    output = _run("search", "--image", str(folder / "beach" / "1.jpg"), "-k", "2")
    lines = output.strip().splitlines()
    assert lines[0].startswith("2 results from imagesearch-tiny:")
    assert "1.jpg" in lines[1] and "[beach]" in lines[1]


def test_search_reports_bad_queries_as_command_errors():
    with pytest.raises(CommandError, match="query: Describe"):
        call_command("search", "")
    with pytest.raises(CommandError, match="top_k"):
        call_command("search", "cat", "-k", "500")


def test_reindex_reports_progress_and_counts(folder):
    _run("ingest", str(folder))
    Image.objects.update(embedding_model="Old:tag")
    output = _run("reindex")
    assert "3 images to embed" in output
    assert "updated 3, failed 0" in output
