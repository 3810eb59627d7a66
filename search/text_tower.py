"""The CLIP text tower run lean for query texts: only up to the end-of-text token, and as an int8 copy.

Kept apart from search.encoder because it needs torch and open_clip at import time: the encoder imports it when
it loads a model, so processes that never encode (migrate, most management commands) do not pay for torch.
"""

from __future__ import annotations

import copy
import warnings

import open_clip
import torch
import torch.nn.functional as F


def supports_truncated_text(model: torch.nn.Module) -> bool:
    return (
        isinstance(model, open_clip.CLIP)
        and getattr(model, "text_pool_type", None) == "argmax"
        and getattr(model, "attn_mask", None) is not None
    )


def encode_text_truncated(model: open_clip.CLIP, tokens: torch.Tensor) -> torch.Tensor:
    """open_clip's CLIP.encode_text, run only up to the last end-of-text token of the batch.

    The text tower is causal and pools at the end-of-text token (the highest token id), so positions after it
    cannot change the output: dropping the padding gives the same vectors for a fraction of the work.
    """
    length = int(tokens.argmax(dim=-1).max()) + 1
    tokens = tokens[:, :length]
    cast_dtype = _cast_dtype(model)
    x = model.token_embedding(tokens).to(cast_dtype)
    x = x + model.positional_embedding[:length].to(cast_dtype)
    x = model.transformer(x, attn_mask=model.attn_mask[:length, :length])
    x = model.ln_final(x)
    x = open_clip.transformer.text_global_pool(x, tokens, model.text_pool_type)
    if isinstance(model.text_projection, torch.nn.Linear):
        return model.text_projection(x)
    return x @ model.text_projection


class TextTower(torch.nn.Module):
    """The parts of a CLIP model that encode_text_truncated reads, without the vision tower."""

    def __init__(self, model: open_clip.CLIP) -> None:
        super().__init__()
        self.token_embedding = model.token_embedding
        self.positional_embedding = model.positional_embedding
        self.transformer = model.transformer
        self.ln_final = model.ln_final
        self.text_projection = model.text_projection
        self.register_buffer("attn_mask", model.attn_mask, persistent=False)
        self.text_pool_type = model.text_pool_type


def quantized_text_tower(model: open_clip.CLIP) -> torch.nn.Module:
    """An int8 dynamically quantized copy of the text tower: every Linear layer, the attention projections included
    (nn.MultiheadAttention keeps its own float ones, so they are rebuilt as Linear layers first). The model itself
    is left as it was."""
    tower = copy.deepcopy(TextTower(model))
    for block in tower.transformer.resblocks:
        block.attn = SelfAttention.from_multihead(block.attn)
    with warnings.catch_warnings():
        # torch.ao's dynamic quantization is deprecated in favour of torchao, which this project does not depend
        # on; the eager API still works and is measured (docs/benchmarks.md). Keep its notices out of every log.
        warnings.simplefilter("ignore", DeprecationWarning)
        warnings.filterwarnings("ignore", message=".*quantize_per_tensor.*")
        from torch.ao.quantization import quantize_dynamic

        return quantize_dynamic(tower, {torch.nn.Linear}, dtype=torch.qint8, inplace=True).eval()


class SelfAttention(torch.nn.Module):
    """nn.MultiheadAttention's self-attention with its projections as plain Linear layers, so int8 dynamic
    quantization reaches them. One query takes a few ms: reading the weights is the cost, and these are a third."""

    def __init__(self, in_proj: torch.nn.Linear, out_proj: torch.nn.Linear, num_heads: int, batch_first: bool):
        super().__init__()
        self.in_proj, self.out_proj = in_proj, out_proj
        self.num_heads, self.batch_first = num_heads, batch_first

    @classmethod
    def from_multihead(cls, attention: torch.nn.MultiheadAttention) -> SelfAttention:
        width = attention.embed_dim
        if not attention._qkv_same_embed_dim or attention.bias_k is not None or attention.add_zero_attn:
            raise ValueError("only plain self-attention (packed q, k, v projections) can be rebuilt")
        in_proj = torch.nn.Linear(width, 3 * width, bias=attention.in_proj_bias is not None)
        in_proj.weight = attention.in_proj_weight
        in_proj.bias = attention.in_proj_bias
        out_proj = torch.nn.Linear(width, width, bias=attention.out_proj.bias is not None)
        out_proj.weight, out_proj.bias = attention.out_proj.weight, attention.out_proj.bias
        return cls(in_proj, out_proj, attention.num_heads, attention.batch_first)

    def forward(
        self,
        query: torch.Tensor,
        key: torch.Tensor,
        value: torch.Tensor,
        need_weights: bool = False,
        attn_mask: torch.Tensor | None = None,
    ) -> tuple[torch.Tensor, None]:
        if key is not query or value is not query or need_weights:
            raise ValueError("SelfAttention serves self-attention without attention weights only")
        x = query if self.batch_first else query.transpose(0, 1)
        batch, length, width = x.shape
        qkv = self.in_proj(x).view(batch, length, 3, self.num_heads, width // self.num_heads)
        q, k, v = qkv.permute(2, 0, 3, 1, 4)  # each (batch, heads, length, head width)
        out = F.scaled_dot_product_attention(q, k, v, attn_mask=attn_mask)
        out = self.out_proj(out.transpose(1, 2).reshape(batch, length, width))
        return (out if self.batch_first else out.transpose(0, 1)), None


def _cast_dtype(model: open_clip.CLIP) -> torch.dtype:
    try:
        return model.transformer.get_cast_dtype()
    except AttributeError:  # int8 dynamically quantized Linear layers: activations stay float32
        return torch.float32
