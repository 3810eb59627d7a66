"""search.text_tower: the truncated text tower equals open_clip's, the int8 copy's rebuilt attention equals torch's."""

import pytest
import torch

from search.encoder import ClipEncoder
from search.text_tower import SelfAttention, encode_text_truncated, quantized_text_tower

TEXTS = ["a red circle", "a large blue star on the left on a white background", "x"]


def test_truncated_text_encoding_equals_open_clips_full_encoding(encoder):
    float32 = ClipEncoder(encoder.model_name, encoder.pretrained, precision="float32")
    tokens = float32.tokenize(TEXTS)
    with torch.inference_mode():
        full = float32.model.encode_text(tokens)
        truncated = encode_text_truncated(float32.model, tokens)
    torch.testing.assert_close(truncated, full, atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize("batch_first", [True, False])
def test_rebuilt_self_attention_equals_multihead_attention(batch_first):
    torch.manual_seed(0)
    attention = torch.nn.MultiheadAttention(64, 4, batch_first=batch_first).eval()
    rebuilt = SelfAttention.from_multihead(attention)
    x = torch.randn(3, 7, 64) if batch_first else torch.randn(7, 3, 64)
    causal = torch.full((7, 7), float("-inf")).triu(1)
    with torch.inference_mode():
        for mask in (None, causal):
            expected, _ = attention(x, x, x, need_weights=False, attn_mask=mask)
            got, _ = rebuilt(x, x, x, need_weights=False, attn_mask=mask)
            torch.testing.assert_close(got, expected, atol=1e-6, rtol=1e-5)


def test_the_int8_text_tower_quantizes_the_attention_projections_too(encoder):
    tower = quantized_text_tower(ClipEncoder(encoder.model_name, encoder.pretrained, precision="float32").model)
    block = tower.transformer.resblocks[0]
    for layer in (block.attn.in_proj, block.attn.out_proj, block.mlp.c_fc, block.mlp.c_proj):
        assert isinstance(layer, torch.ao.nn.quantized.dynamic.Linear)
