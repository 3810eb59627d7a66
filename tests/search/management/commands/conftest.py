"""A folder of images for the commands to ingest (three good pictures in a subfolder, one broken file), and the
curation collection for the duplicate finder's command."""

import pytest

from tests.curation_fixtures import collection  # noqa: F401
from tests.factories import noise_image_bytes


@pytest.fixture
def folder(tmp_path):
    (tmp_path / "beach").mkdir()
    for seed in range(3):
        (tmp_path / "beach" / f"{seed}.jpg").write_bytes(noise_image_bytes(seed))
    (tmp_path / "broken.jpg").write_text("nope")
    return tmp_path
