"""The encoder's exact speed-ups give the same vectors; the in-process query cache hits and evicts."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from PIL import Image as PILImage

from search import encoder as encoder_module
from search.encoder import (
    ClipEncoder,
    TextVectorCache,
    resolve_precision,
)
from search.lab.speed.encoders import (
    INGEST_MODEL_KEY,
    onnx_text,
    photo_like_jpegs,
    quantized_text,
    time_full_ingest,
)
from search.models import Image
from search.text_tower import encode_text_truncated

TEXTS = ["a red circle", "a large blue star on the left on a white background", "x"]


@pytest.fixture(scope="module")
def small_cache_encoder():
    return ClipEncoder("imagesearch-tiny", "", text_cache_size=2)


def test_cached_text_vectors_equal_fresh_ones(small_cache_encoder):
    encoder = small_cache_encoder
    encoder.text_cache.clear()
    first = encoder.encode_text(["a red circle"])
    again = encoder.encode_text(["a red circle"])
    assert encoder.text_cache.hits == 1 and encoder.text_cache.misses == 1
    np.testing.assert_array_equal(again, first)
    uncached = ClipEncoder("imagesearch-tiny", "")
    np.testing.assert_allclose(uncached.encode_text(["a red circle"]), first, atol=1e-6)


def test_a_batch_encodes_only_its_uncached_texts_and_keeps_order(small_cache_encoder):
    encoder = small_cache_encoder
    encoder.text_cache.clear()
    encoder.encode_text(["x"])
    vectors = encoder.encode_text(["a red circle", "x", "a red circle"])
    assert encoder.text_cache.hits == 1  # "x"; the repeated text was encoded once
    np.testing.assert_array_equal(vectors[0], vectors[2])
    np.testing.assert_array_equal(vectors[1], encoder.encode_text(["x"])[0])


def test_least_recently_used_text_is_evicted(small_cache_encoder):
    encoder = small_cache_encoder
    encoder.text_cache.clear()
    encoder.encode_text(["one"])
    encoder.encode_text(["two"])
    encoder.encode_text(["one"])  # "two" is now the oldest
    encoder.encode_text(["three"])
    assert len(encoder.text_cache) == 2
    assert encoder.text_cache.get("two") is None
    assert encoder.text_cache.get("one") is not None


def test_callers_cannot_change_a_cached_vector(small_cache_encoder):
    encoder = small_cache_encoder
    encoder.text_cache.clear()
    vector = encoder.encode_text(["a red circle"])
    vector[0, :] = 0.0
    assert np.abs(encoder.encode_text(["a red circle"])).sum() > 0


def test_a_zero_size_cache_stores_nothing():
    cache = TextVectorCache(0)
    cache.put("a", np.ones(3, dtype=np.float32))
    assert len(cache) == 0 and cache.get("a") is None


def test_int8_quantized_text_vectors_stay_close(encoder):
    float32 = ClipEncoder(encoder.model_name, encoder.pretrained, precision="float32")
    tokens = float32.tokenize(TEXTS)
    with torch.inference_mode():
        exact = F.normalize(encode_text_truncated(float32.model, tokens), dim=-1)
    quantized = F.normalize(quantized_text(float32.model)(tokens), dim=-1)
    assert float((quantized * exact).sum(dim=-1).min()) > 0.99


def test_onnx_text_tower_gives_the_same_vectors(encoder):
    pytest.importorskip("onnxruntime", reason="ONNX Runtime is optional (pip install onnxruntime)")
    tokens = encoder.tokenize(TEXTS)
    with torch.inference_mode():
        exact = encode_text_truncated(encoder.model, tokens)
    torch.testing.assert_close(onnx_text(encoder.model).run(tokens), exact, atol=1e-4, rtol=1e-4)


@pytest.mark.django_db
def test_full_ingest_timing_leaves_no_rows_or_model_key_changes(encoder):
    key = encoder.model_key
    rate = time_full_ingest(encoder, photo_like_jpegs(3, size=(160, 120)))
    assert rate > 0
    assert encoder.model_key == key
    assert not Image.objects.filter(vector__embedding_model=INGEST_MODEL_KEY).exists()


def test_one_thread_text_encoding_gives_the_same_vectors_and_restores_the_thread_count():
    threads = torch.get_num_threads()
    single = ClipEncoder("imagesearch-tiny", "", text_threads=1)
    shared = ClipEncoder("imagesearch-tiny", "")
    np.testing.assert_allclose(single.encode_text(TEXTS), shared.encode_text(TEXTS), atol=1e-6)
    assert torch.get_num_threads() == threads


def test_the_int8_text_setting_changes_query_vectors_only_slightly_and_images_not_at_all(encoder):
    exact = ClipEncoder(encoder.model_name, encoder.pretrained, text_int8=False)
    int8 = ClipEncoder(encoder.model_name, encoder.pretrained, text_int8=True)
    float_texts, int8_texts = exact.encode_text(TEXTS), int8.encode_text(TEXTS)
    assert not np.array_equal(float_texts, int8_texts)  # the quantized tower is really the one used
    assert float((float_texts * int8_texts).sum(axis=1).min()) > 0.99
    image = PILImage.fromarray(np.random.default_rng(0).integers(0, 256, (90, 120, 3), dtype=np.uint8))
    np.testing.assert_array_equal(exact.encode_images([image]), int8.encode_images([image]))
    # Same collection, so the same model key; cached query vectors of the two paths must not mix.
    assert int8.model_key == exact.model_key and int8.text_key != exact.text_key
    assert isinstance(int8.model.transformer.resblocks[0].mlp.c_fc, torch.nn.Linear)  # the float model is untouched


def test_without_int8_query_vectors_are_exactly_open_clips(encoder):
    exact = ClipEncoder(encoder.model_name, encoder.pretrained, text_int8=False)
    with torch.inference_mode():
        reference = F.normalize(exact.model.encode_text(exact.tokenize(TEXTS)), dim=-1).numpy()
    np.testing.assert_allclose(exact.encode_text(TEXTS), reference, atol=1e-6)


def test_precision_auto_is_bf16_only_on_a_cpu_with_bf16_matrix_units(monkeypatch):
    assert resolve_precision("float32", "cpu") == "float32"
    assert resolve_precision("bfloat16", "cpu") == "bfloat16"
    monkeypatch.setattr(encoder_module, "cpu_has_bf16_matrix_units", lambda: True)
    assert resolve_precision("auto", "cpu") == "bfloat16"
    assert resolve_precision("auto", "cuda") == "float32"
    monkeypatch.setattr(encoder_module, "cpu_has_bf16_matrix_units", lambda: False)
    assert resolve_precision("auto", "cpu") == "float32"
    with pytest.raises(ValueError, match="auto, float32 or bfloat16"):
        resolve_precision("fp16", "cpu")


def test_bf16_weights_change_image_vectors_within_budget_and_keep_the_collection(encoder):
    float32 = ClipEncoder(encoder.model_name, encoder.pretrained, precision="float32", text_int8=False)
    bf16 = ClipEncoder(encoder.model_name, encoder.pretrained, precision="bfloat16", text_int8=False)
    images = [
        PILImage.fromarray(np.random.default_rng(seed).integers(0, 256, (90, 120, 3), dtype=np.uint8))
        for seed in range(3)
    ]
    exact, half = float32.encode_images(images), bf16.encode_images(images)
    assert half.dtype == np.float32
    assert not np.array_equal(exact, half)  # the bf16 weights are really the ones used
    assert float((exact * half).sum(axis=1).min()) > 0.999
    float_texts, bf16_texts = float32.encode_text(TEXTS), bf16.encode_text(TEXTS)
    assert float((float_texts * bf16_texts).sum(axis=1).min()) > 0.999
    assert bf16.model.visual.conv1.weight.dtype == torch.bfloat16 and bf16.precision == "bfloat16"
    # Same collection, so the same model key; cached query vectors of the two text paths must not mix.
    assert bf16.model_key == float32.model_key and bf16.text_key != float32.text_key


def test_the_int8_text_tower_is_quantized_from_float32_weights_whatever_the_precision(encoder):
    float32 = ClipEncoder(encoder.model_name, encoder.pretrained, precision="float32", text_int8=True)
    bf16 = ClipEncoder(encoder.model_name, encoder.pretrained, precision="bfloat16", text_int8=True)
    np.testing.assert_array_equal(bf16.encode_text(TEXTS), float32.encode_text(TEXTS))
    assert bf16.text_key == float32.text_key


def test_captions_take_the_full_precision_text_path_and_queries_the_int8_one(encoder):
    int8 = ClipEncoder(encoder.model_name, encoder.pretrained, precision="float32", text_int8=True)
    exact = ClipEncoder(encoder.model_name, encoder.pretrained, precision="float32", text_int8=False)
    np.testing.assert_allclose(int8.encode_captions(TEXTS), exact.encode_text(TEXTS), atol=1e-6)
    assert not np.array_equal(int8.encode_text(TEXTS), exact.encode_text(TEXTS))
    assert int8.encode_captions([]).shape == (0, int8.dim)
