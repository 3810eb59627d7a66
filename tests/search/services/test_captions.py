from io import StringIO
from pathlib import Path

import pytest
from celery import current_app
from django.core.management import CommandError, call_command
from django.db import connection

from search.models import CaptionRevision, Image, QueryImage, SearchSession
from search.query import load_upload
from search.selectors.search import search_captions_by_image
from search.services.captions import caption_query_image, captions_import, captions_queue, images_caption
from search.services.ingest import find_image_files, images_ingest
from search.tasks.captions import caption_images_task
from search.vector_index import caption_hnsw_index_name
from tests.factories import image_bytes, noise_image_bytes

pytestmark = pytest.mark.django_db


@pytest.fixture
def ingested(tmp_path, encoder) -> list[Image]:
    folder = tmp_path / "pictures"
    folder.mkdir()
    for seed in range(5):
        (folder / f"img{seed}.jpg").write_bytes(noise_image_bytes(seed))
    images_ingest(find_image_files(folder), encoder=encoder)
    return list(Image.objects.order_by("id"))


def test_captions_every_image_with_a_revision_and_a_caption_vector(ingested, captioner, encoder):
    report = images_caption(captioner=captioner, encoder=encoder)

    assert report.captioned + report.unchanged == 5
    for image in Image.objects.all():
        assert image.caption_model == captioner.model_key
        assert image.caption_embedding_model == encoder.model_key
        assert len(image.caption_embedding) == encoder.dim
    assert CaptionRevision.objects.filter(caption_model=captioner.model_key).count() == report.captioned


def test_running_again_changes_nothing(ingested, captioner, encoder):
    images_caption(captioner=captioner, encoder=encoder)
    revisions = CaptionRevision.objects.count()
    before = {image.id: image.updated_at for image in Image.objects.all()}

    report = images_caption(captioner=captioner, encoder=encoder)

    assert (report.captioned, report.unchanged, report.failed) == (0, 0, [])
    assert CaptionRevision.objects.count() == revisions
    assert {image.id: image.updated_at for image in Image.objects.all()} == before


def test_a_curated_caption_is_never_overwritten(ingested, captioner, encoder):
    curated = ingested[0]
    Image.objects.filter(id=curated.id).update(caption="the curator's words", caption_curated=True)

    images_caption(captioner=captioner, encoder=encoder)

    curated.refresh_from_db()
    assert curated.caption == "the curator's words"
    assert curated.caption_model == ""
    assert not CaptionRevision.objects.filter(image=curated).exists()


def test_a_curator_edit_during_the_batch_wins(ingested, captioner, encoder, monkeypatch):
    target = ingested[1]
    caption = captioner.caption

    def curator_edits_meanwhile(images):
        Image.objects.filter(id=target.id).update(caption="edited meanwhile", caption_curated=True)
        return caption(images)

    monkeypatch.setattr(captioner, "caption", curator_edits_meanwhile)

    report = images_caption(captioner=captioner, encoder=encoder)

    target.refresh_from_db()
    assert target.caption == "edited meanwhile"
    assert report.skipped_curated == 1


def test_missing_only_leaves_existing_captions_alone(ingested, captioner, encoder):
    Image.objects.filter(id=ingested[0].id).update(caption="from an older captioner", caption_model="old")

    images_caption(missing_only=True, captioner=captioner, encoder=encoder)

    assert Image.objects.get(id=ingested[0].id).caption == "from an older captioner"
    assert Image.objects.exclude(id=ingested[0].id).filter(caption_model=captioner.model_key).count() == 4


def test_a_missing_file_is_reported_and_the_rest_captioned(ingested, captioner, encoder):
    Path(ingested[2].file.path).unlink()

    report = images_caption(captioner=captioner, encoder=encoder)

    assert [image_id for image_id, _ in report.failed] == [ingested[2].id]
    assert Image.objects.filter(caption_model=captioner.model_key).count() == 4


def test_the_task_captions_only_the_given_images_and_is_idempotent(ingested, captioner):
    ids = [ingested[0].id, ingested[3].id]

    first = caption_images_task.apply(args=(ids,)).get()
    second = caption_images_task.apply(args=(ids,)).get()

    assert first["captioned"] + first["unchanged"] == 2
    assert (second["captioned"], second["unchanged"]) == (0, 0)
    assert set(Image.objects.filter(caption_model=captioner.model_key).values_list("id", flat=True)) == set(ids)
    assert current_app.amqp.router.route({}, caption_images_task.name)["queue"].name == "default"


def test_the_task_embeds_captions_a_curator_edited(ingested, captioner, encoder):
    Image.objects.filter(id=ingested[4].id).update(caption="a sign saying exit", caption_curated=True)

    caption_images_task.apply(args=([ingested[4].id],)).get()

    image = Image.objects.get(id=ingested[4].id)
    assert image.caption_embedding_model == encoder.model_key
    assert image.caption == "a sign saying exit"


def test_caption_command_with_missing(ingested, captioner, capsys):
    call_command("caption", "--missing")

    out = capsys.readouterr().out
    assert "5 images to caption" in out
    assert Image.objects.filter(caption_model=captioner.model_key).count() == 5


def test_dataset_captions_stand_in_for_a_captioner(ingested, encoder):
    written = captions_import([(ingested[0].sha256, "a red circle"), ("0" * 64, "no such image")], encoder=encoder)

    image = Image.objects.get(id=ingested[0].id)
    assert written == 1
    assert (image.caption, image.caption_model) == ("a red circle", "dataset")
    assert image.caption_embedding_model == encoder.model_key


def test_image_to_text_finds_the_caption_of_the_same_picture(ingested, encoder):
    captions_import([(image.sha256, f"caption number {i}") for i, image in enumerate(ingested)], encoder=encoder)
    # Make one caption vector the image's own vector: the nearest caption to that image must then be this one.
    target = Image.objects.get(id=ingested[3].id)
    Image.objects.filter(id=target.id).update(caption_embedding=target.vector.embedding)
    loaded = load_upload(Path(target.file.path).read_bytes())

    hits = search_captions_by_image(loaded, top_k=3, encoder=encoder)

    assert hits[0].image_id == target.id
    assert hits[0].caption == "caption number 3"
    assert hits[0].score == pytest.approx(1.0, abs=1e-3)
    assert len(hits) == 3


def test_caption_search_uses_the_caption_hnsw_index(ingested, encoder):
    captions_import([(image.sha256, "words") for image in ingested], encoder=encoder)
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        vector = "[" + ",".join(["0.1"] * encoder.dim) + "]"
        cursor.execute(
            f"EXPLAIN SELECT id FROM search_image WHERE caption_embedding_model = %s AND caption_embedding IS NOT NULL "
            f"ORDER BY caption_embedding::vector({encoder.dim}) <=> %s::vector LIMIT 5",
            [encoder.model_key, vector],
        )
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert caption_hnsw_index_name(encoder.model_key) in plan


def test_a_query_image_is_captioned(captioner, django_user_model, media_root):
    session = SearchSession.objects.create(user=django_user_model.objects.create_user("q", password="x" * 12))
    (media_root / "queries").mkdir()
    (media_root / "queries" / "q.jpg").write_bytes(image_bytes("blue"))
    query_image = QueryImage.objects.create(
        session=session, file="queries/q.jpg", sha256="0" * 64, format="JPEG", width=64, height=48, byte_size=10
    )

    caption = caption_query_image(query_image, captioner=captioner)

    query_image.refresh_from_db()
    assert query_image.caption == caption
    assert isinstance(caption, str)


@pytest.fixture
def sent(monkeypatch):
    calls = []
    monkeypatch.setattr(caption_images_task, "apply_async", lambda args, **options: calls.append(args))
    return calls


def test_switched_off_nothing_is_queued_and_the_task_does_nothing(settings, sent, django_capture_on_commit_callbacks):
    settings.CAPTION_MODEL = ""
    with django_capture_on_commit_callbacks(execute=True):
        captions_queue([1, 2])
    assert sent == []
    assert caption_images_task.apply(args=([1],)).get() == {"disabled": True}


def test_switched_off_the_command_says_so(settings):
    settings.CAPTION_MODEL = ""
    with pytest.raises(CommandError, match="Captioning is off"):
        call_command("caption", stdout=StringIO())


def test_ingest_queues_captions_once_its_images_are_committed(
    settings, sent, tmp_path, captioner, django_capture_on_commit_callbacks
):
    (tmp_path / "a.jpg").write_bytes(noise_image_bytes(1))
    with django_capture_on_commit_callbacks(execute=True):
        call_command("ingest", str(tmp_path), stdout=StringIO())
    assert sent == [(None,)]  # None: every image still without a caption from the configured captioner


def test_nothing_is_queued_for_an_empty_list(settings, sent, django_capture_on_commit_callbacks, captioner):
    with django_capture_on_commit_callbacks(execute=True):
        captions_queue([])
    assert sent == []
