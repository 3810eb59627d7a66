import subprocess
import sys
import threading
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import open_clip
import pytest
import torch
from PIL import Image as PILImage

from search.encoder import ClipEncoder, get_encoder, pretrained_tag
from tests.factories import noise_image_bytes, vector_atol

TEXTS = ["a red circle", "a large blue star on the left on a white background", "x"]


def _pil(seed):
    import io

    return PILImage.open(io.BytesIO(noise_image_bytes(seed, size=(120, 90)))).convert("RGB")


def test_preprocessing_is_exactly_open_clips(encoder):
    _, _, reference = open_clip.create_model_and_transforms(encoder.model_name, pretrained=None)
    image = _pil(1)
    assert torch.equal(encoder.preprocess(image), reference(image))


def test_tokenization_is_exactly_open_clips(encoder):
    reference = open_clip.get_tokenizer(encoder.model_name)
    assert torch.equal(encoder.tokenize(TEXTS), reference(TEXTS))


def test_outputs_are_normalised_float32(encoder):
    vectors = np.concatenate([encoder.encode_text(TEXTS), encoder.encode_images([_pil(2), _pil(3)])])
    assert vectors.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)


def test_batched_image_encoding_equals_one_at_a_time(encoder):
    images = [_pil(seed) for seed in range(5)]
    small_batches = ClipEncoder.__new__(ClipEncoder)
    small_batches.__dict__.update(encoder.__dict__, batch_size=2)
    together = encoder.encode_images(images)
    np.testing.assert_allclose(small_batches.encode_images(images), together, atol=vector_atol(encoder))
    np.testing.assert_allclose(encoder.encode_images(images[3:4])[0], together[3], atol=vector_atol(encoder))


def test_concurrent_requests_get_the_same_vectors(encoder):
    expected = encoder.encode_text(TEXTS)
    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(lambda _: encoder.encode_text(TEXTS), range(8)))
    for result in results:
        np.testing.assert_allclose(result, expected, atol=1e-6)


def test_one_encoder_per_process():
    first = get_encoder()
    seen = []
    threads = [threading.Thread(target=lambda: seen.append(get_encoder())) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert all(other is first for other in seen)


def test_checkpoint_tag_names_the_file_and_its_content(tmp_path):
    checkpoint = tmp_path / "weights.pt"
    checkpoint.write_bytes(b"one")
    first = pretrained_tag(str(checkpoint))
    checkpoint.write_bytes(b"two")
    assert first.startswith("weights.pt@")
    assert pretrained_tag(str(checkpoint)) != first
    assert pretrained_tag("laion2b_s34b_b79k") == "laion2b_s34b_b79k"


@pytest.mark.parametrize("pretrained", ["", "none"])
def test_random_weights_are_reproducible(pretrained):
    a = ClipEncoder("imagesearch-tiny", pretrained)
    b = ClipEncoder("imagesearch-tiny", pretrained)
    np.testing.assert_array_equal(a.encode_text(["a cat"]), b.encode_text(["a cat"]))
    assert a.model_key == "imagesearch-tiny:random-seed0"


def test_weights_that_cannot_be_loaded_name_the_setting_to_change(tmp_path):
    from search.encoder import EncoderUnavailable

    missing = tmp_path / "absent.pt"
    with pytest.raises(EncoderUnavailable, match="CLIP_PRETRAINED") as raised:
        ClipEncoder("imagesearch-tiny", str(missing))
    assert "imagesearch-tiny" in str(raised.value)


def test_a_process_that_never_encodes_does_not_import_torch():
    # Every module of the app is imported by `check` (admin, URLs, models); only building an encoder, captioner or
    # language model may bring torch in, so management commands start in ~1 s instead of ~5.
    script = (
        "import sys, django; django.setup(); from django.core.management import call_command; "
        "call_command('check', verbosity=0); "
        "print(sorted(name for name in ('torch', 'open_clip', 'transformers') if name in sys.modules))"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines()[-1] == "[]"
