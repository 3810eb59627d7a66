"""manage.py import_captions: a dataset's own captions file stands in for a captioner, matched by content."""

import pytest

from search.models import Image
from tests.factories import command_output

pytestmark = pytest.mark.django_db


def test_the_datasets_captions_are_written_to_the_images_it_indexed(tmp_path, encoder):
    command_output("make_dataset", str(tmp_path), "--train", "0", "--test", "4", "--seed", "3")
    command_output("ingest", str(tmp_path / "images"))
    output = command_output("import_captions", str(tmp_path))
    assert "captions written for 4 of 4 images" in output
    assert not Image.objects.filter(caption="").exists()
    assert Image.objects.filter(caption_embedding_model=encoder.model_key).count() == 4
