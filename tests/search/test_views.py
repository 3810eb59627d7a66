import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from search.models import Image
from search.services.ingest import find_image_files, images_ingest
from tests.factories import noise_image_bytes

pytestmark = pytest.mark.django_db


@pytest.fixture
def collection(tmp_path, encoder):
    for seed in range(4):
        (tmp_path / f"{seed}.jpg").write_bytes(noise_image_bytes(seed))
    images_ingest(find_image_files(tmp_path, category="noise"), encoder=encoder)
    return tmp_path


def test_home_page_renders_the_search_form(client):
    response = client.get("/")
    assert response.status_code == 200
    assert b'name="q"' in response.content and b'name="image"' in response.content


def test_text_search_shows_a_grid_with_scores(client, collection):
    response = client.get("/", {"q": "a noisy picture", "k": 3})
    assert response.status_code == 200
    assert response.content.count(b'class="result"') == 3
    assert b'class="score"' in response.content


def test_image_search_puts_the_same_image_first(client, collection):
    upload = SimpleUploadedFile("query.jpg", (collection / "2.jpg").read_bytes(), content_type="image/jpeg")
    response = client.post("/", {"image": upload, "k": 2})
    first = Image.objects.get(original_name="2.jpg")
    assert response.context["results"].hits[0].id == first.id


def test_bad_upload_is_a_400_with_the_reason(client, collection):
    upload = SimpleUploadedFile("query.jpg", b"not really a jpeg", content_type="image/jpeg")
    response = client.post("/", {"image": upload})
    assert response.status_code == 400
    assert b"not an image" in response.content


def test_out_of_range_k_is_a_400(client):
    response = client.get("/", {"q": "cat", "k": 1000})
    assert response.status_code == 400


def test_thumbnail_and_original_are_served(client, collection):
    image = Image.objects.first()
    thumbnail = client.get(f"/images/{image.id}/thumbnail/")
    original = client.get(f"/images/{image.id}/original/")
    assert (thumbnail.status_code, thumbnail["Content-Type"]) == (200, "image/jpeg")
    assert b"".join(original.streaming_content) == (collection / image.original_name).read_bytes()


def test_hidden_image_files_are_404(client, collection):
    image = Image.objects.first()
    Image.objects.filter(id=image.id).update(hidden=True)
    assert client.get(f"/images/{image.id}/thumbnail/").status_code == 404
    assert client.get(f"/images/{image.id}/original/").status_code == 404
