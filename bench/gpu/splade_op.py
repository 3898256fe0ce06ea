"""SPLADE max pooling as one PyTorch op on the CUDA fused head (issue 22), forward and backward.

    rep[b, v] = max over valid tokens t of log1p(relu(hidden[b, t] · W[v] + bias[v]))   (0: no valid token)

`splade_max_pool(hidden, weight, bias, mask)` is the decoder projection + activation + masked max of
a Hugging Face masked-LM SPLADE model in one autograd op: the [tokens × vocabulary] logits are never
formed, in the forward (the fused kernel keeps a running max and its argmax on chip) or the backward
(the gradient flows only through each (text, term)'s winning token; native/cuda/head-backward.inc).
What it keeps for the backward: hidden and W in the compute dtype, out [B, V] fp32 and the argmax
[B, V] int16.

Dtypes: under CUDA autocast the product runs in the autocast dtype (bf16/fp16) like the nn.Linear it
replaces, with fp32 bias and fp32 gradients for fp32 parameters; without autocast in the inputs'
dtype. bf16/fp16 take the sm_90a tensor-core kernel; fp32 (and GPUs without that kernel) take a
reference forward that computes the logits in fp32 a few texts at a time (bounded memory, not
fused) and then the same backward kernels.

`FusedSpladeMLM(mlm)` wraps a transformers *ForMaskedLM model (BERT, RoBERTa/XLM-R, DistilBERT, ...):
its output-embedding decoder is replaced by an identity, so the model returns the MLM transform's
hidden states, and the fused op applies the decoder's weight and bias. `patch_sparse_encoder(model)`
does the same inside a sentence-transformers SparseEncoder (MLMTransformer + SpladePooling('max',
'relu')).
"""
import os
import sys

import torch
from torch import nn

sys.path.insert(0, os.path.dirname(__file__))
import lsr_head  # noqa: E402


def _fast_path_ok(hidden, weight):
    if hidden.dtype not in (torch.bfloat16, torch.float16) or hidden.shape[-1] % 8 != 0:
        return False
    if hidden.data_ptr() % 16 or weight.data_ptr() % 16:
        return False
    return torch.cuda.get_device_capability(hidden.device)[0] == 9


def _lengths_from_mask(mask_u8):
    """lengths[b] = 1 + last valid position: lets the kernel skip 256-token tiles past it."""
    T = mask_u8.shape[1]
    pos = torch.arange(1, T + 1, device=mask_u8.device, dtype=torch.int32)
    return (mask_u8.to(torch.int32) * pos).amax(dim=1).to(torch.int32).contiguous()


@torch.no_grad()
def _forward_reference(hc, wc, bias, mask_u8, out, argmax):
    """fp32 logits a few texts at a time (about 1 GiB each): the path for fp32 and non-Hopper GPUs.
    torch.max's index is the first maximal one, the same tie rule as the kernel."""
    B, T, H = hc.shape
    V = wc.shape[0]
    per = max(1, (1 << 28) // max(1, T * V))
    wf = wc.float()
    with torch.autocast("cuda", enabled=False):
        for b0 in range(0, B, per):
            b1 = min(B, b0 + per)
            z = torch.matmul(hc[b0:b1].float(), wf.T)  # [c, T, V]
            if mask_u8 is not None:
                z.masked_fill_(mask_u8[b0:b1, :, None] == 0, float("-inf"))
            m, i = z.max(dim=1)
            del z
            if bias is not None:
                m = m + bias
            pos = m > 0
            out[b0:b1] = torch.where(pos, torch.log1p(m.clamp_min(0)), torch.zeros_like(m))
            argmax[b0:b1] = torch.where(pos, i, torch.full_like(i, -1)).to(argmax.dtype)


class _SpladeMaxPool(torch.autograd.Function):
    @staticmethod
    def forward(ctx, hidden, weight, bias, mask, compute_dtype, idx_bits):
        B, T, H = hidden.shape
        V = weight.shape[0]
        hc = hidden.detach().to(compute_dtype).contiguous()
        wc = weight.detach().to(compute_dtype).contiguous()
        b32 = None if bias is None else bias.detach().float().contiguous()
        mask_u8 = None if mask is None else mask.detach().to(torch.uint8).contiguous()
        if idx_bits is None:
            idx_bits = 16 if T <= 32767 else 32
        out = torch.empty(B, V, dtype=torch.float32, device=hidden.device)
        argmax = torch.empty(B, V, dtype=torch.int16 if idx_bits == 16 else torch.int32, device=hidden.device)
        if _fast_path_ok(hc, wc):
            lengths = None if mask_u8 is None else _lengths_from_mask(mask_u8)
            lsr_head.sparse_head_argmax(hc, wc, b32, lengths, mask_u8, out, argmax)
        else:
            _forward_reference(hc, wc, b32, mask_u8, out, argmax)
        ctx.save_for_backward(hc, wc, out, argmax)
        ctx.dtypes = (hidden.dtype, weight.dtype, None if bias is None else bias.dtype)
        ctx.mark_non_differentiable(argmax)
        return out, argmax

    @staticmethod
    def backward(ctx, grad_out, _grad_argmax):
        hc, wc, out, argmax = ctx.saved_tensors
        B, T, H = hc.shape
        V = wc.shape[0]
        need_h, need_w, need_b = ctx.needs_input_grad[:3]
        dev = hc.device
        gh = torch.empty(B, T, H, dtype=torch.float32, device=dev) if need_h else None
        gw = torch.empty(V, H, dtype=torch.float32, device=dev) if need_w else None
        gb = torch.empty(V, dtype=torch.float32, device=dev) if (need_b and ctx.dtypes[2] is not None) else None
        if gh is not None or gw is not None or gb is not None:
            lsr_head.sparse_head_backward(hc, wc, out, argmax, grad_out.float().contiguous(), gh, gw, gb)
        hd, wd, bd = ctx.dtypes
        return (None if gh is None else gh.to(hd), None if gw is None else gw.to(wd),
                None if gb is None else gb.to(bd), None, None, None)


def splade_max_pool(hidden, weight, bias=None, mask=None, compute_dtype=None, idx_bits=None, return_argmax=False):
    """hidden [B, T, H], weight [V, H], bias [V] or None, mask [B, T] (nonzero = valid) or None.
    Returns rep [B, V] fp32 (and the argmax [B, V] when return_argmax)."""
    if compute_dtype is None:
        if hidden.is_cuda and torch.is_autocast_enabled("cuda"):
            compute_dtype = torch.get_autocast_dtype("cuda")
        else:
            compute_dtype = hidden.dtype
    out, argmax = _SpladeMaxPool.apply(hidden, weight, bias, mask, compute_dtype, idx_bits)
    return (out, argmax) if return_argmax else out


def _replace_child(root, target, replacement):
    for mod in root.modules():
        for name, child in mod.named_children():
            if child is target:
                setattr(mod, name, replacement)
                return True
    return False


class FusedSpladeMLM(nn.Module):
    """A transformers masked-LM as a SPLADE encoder with the fused head: forward(input_ids,
    attention_mask, **kw) -> rep [B, V] fp32. The MLM transform (dense, activation, LayerNorm)
    stays in PyTorch; decoder projection + log1p(relu) + masked max are the fused op. The decoder
    keeps its parameters (tied to the input embeddings where the model ties them)."""

    def __init__(self, mlm):
        super().__init__()
        dec = mlm.get_output_embeddings()
        if dec is None or not _replace_child(mlm, dec, nn.Identity()):
            raise ValueError("the model has no output-embedding decoder to replace")
        self.mlm = mlm
        self.decoder = dec

    def forward(self, input_ids, attention_mask, **kw):
        h = self.mlm(input_ids=input_ids, attention_mask=attention_mask, **kw).logits  # [B, T, H] after the identity
        return splade_max_pool(h, self.decoder.weight, self.decoder.bias, attention_mask)


def patch_sparse_encoder(st_model):
    """In a sentence-transformers SparseEncoder built from MLMTransformer + SpladePooling (max pooling,
    relu activation): the decoder becomes an identity and SpladePooling's forward the fused op.
    Returns the decoder module (its parameters stay those of the model)."""
    mlm_mod = next(m for m in st_model.modules() if hasattr(m, "auto_model")
                   and hasattr(m.auto_model, "get_output_embeddings"))
    pool = next(m for m in st_model.modules() if type(m).__name__ == "SpladePooling")
    if getattr(pool, "pooling_strategy", "max") != "max" or getattr(pool, "activation_function", "relu") != "relu":
        raise ValueError("the fused op implements max pooling of log1p(relu(logits)) only")
    dec = mlm_mod.auto_model.get_output_embeddings()
    if not _replace_child(mlm_mod.auto_model, dec, nn.Identity()):
        raise ValueError("decoder not found in the MLM model")
    pool.fused_decoder = dec  # a submodule of the pooling, so .to()/.parameters() still see it

    def forward(features, **_kw):
        rep = splade_max_pool(features["token_embeddings"], dec.weight, dec.bias, features.get("attention_mask"))
        for attr in ("word_embedding_dimension", "embedding_dimension"):
            if hasattr(pool, attr) and getattr(pool, attr) is None:
                setattr(pool, attr, rep.shape[1])
        features["sentence_embedding"] = rep
        return features

    pool.forward = forward
    pool.fused_original_forward = type(pool).forward.__get__(pool)
    return dec


def unpatch_sparse_encoder(st_model):
    """Undoes patch_sparse_encoder: the decoder back in the MLM (same parameters, trained), SpladePooling's
    own forward back, so the model saves and runs as a plain SparseEncoder."""
    mlm_mod = next(m for m in st_model.modules() if hasattr(m, "auto_model")
                   and hasattr(m.auto_model, "get_output_embeddings"))
    pool = next(m for m in st_model.modules() if type(m).__name__ == "SpladePooling")
    dec = getattr(pool, "fused_decoder", None)
    if dec is None:
        return
    ident = mlm_mod.auto_model.get_output_embeddings()
    if not _replace_child(mlm_mod.auto_model, ident, dec):
        raise ValueError("the identity placed by patch_sparse_encoder was not found")
    del pool.fused_decoder
    pool.forward = pool.fused_original_forward
    del pool.fused_original_forward
