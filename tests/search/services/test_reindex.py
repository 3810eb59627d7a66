import pytest

from search.models import Image, ImageVector
from search.services.ingest import find_image_files, images_ingest
from search.services.reindex import images_reindex
from tests.factories import noise_image_bytes, vector_atol

pytestmark = pytest.mark.django_db


@pytest.fixture
def collection(tmp_path, encoder):
    for seed in range(5):
        (tmp_path / f"{seed}.jpg").write_bytes(noise_image_bytes(seed))
    images_ingest(find_image_files(tmp_path), encoder=encoder)
    expected = dict(ImageVector.objects.values_list("image_id", "embedding"))
    # As if the collection had been embedded by another model of another dimension.
    ImageVector.objects.update(embedding=[0.5] * 8, embedding_model="OldModel:old-tag")
    return expected


def test_reindex_embeds_everything_with_the_current_model(collection, encoder):
    report = images_reindex(encoder=encoder, batch_size=2)
    assert (report.updated, report.failed) == (5, [])
    for image_id, embedding in ImageVector.objects.values_list("image_id", "embedding"):
        assert list(embedding) == pytest.approx(list(collection[image_id]), abs=vector_atol(encoder))
    assert not Image.objects.needing_embedding(encoder.model_key).exists()


def test_interrupted_reindex_resumes_where_it_stopped(collection, encoder):
    class Interrupted(Exception):
        pass

    def stop_after_first_batch(done):
        raise Interrupted

    with pytest.raises(Interrupted):
        images_reindex(encoder=encoder, batch_size=2, on_batch=stop_after_first_batch)
    assert Image.objects.needing_embedding(encoder.model_key).count() == 3
    report = images_reindex(encoder=encoder, batch_size=2)
    assert report.updated == 3
    assert not Image.objects.needing_embedding(encoder.model_key).exists()


def test_missing_file_is_reported_not_fatal(collection, encoder, media_root):
    broken = Image.objects.order_by("id").first()
    (media_root / broken.file.name).unlink()
    report = images_reindex(encoder=encoder)
    assert report.updated == 4
    assert [image_id for image_id, _ in report.failed] == [broken.id]
