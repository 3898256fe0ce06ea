"""ctypes binding of build/cuda/liblsr_cuda_head.so (native/cuda/sparse-head.h) for PyTorch tensors."""
import ctypes
import os

import torch

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
LIB_PATH = os.environ.get("LSR_CUDA_HEAD_LIB", os.path.join(ROOT, "build", "cuda", "liblsr_cuda_head.so"))

_lib = ctypes.CDLL(LIB_PATH)
_P = ctypes.c_void_p
_I = ctypes.c_int
for name in ("lsr_cuda_sparse_head", "lsr_cuda_sparse_head_portable"):
    f = getattr(_lib, name)
    f.argtypes = [_P, _P, _P, _P, _P, _P, _I, _I, _I, _I, _I, _P]
    f.restype = _I
_lib.lsr_cuda_dense_to_csr.argtypes = [_P, _I, _I, _P, _P, _P, _I, _P, _P]
_lib.lsr_cuda_dense_to_csr.restype = _I
_lib.lsr_cuda_last_error.restype = ctypes.c_char_p

DTYPES = {torch.bfloat16: 0, torch.float16: 1}


def _ptr(t):
    return None if t is None else ctypes.c_void_p(t.data_ptr())


def sparse_head(hidden, W, bias=None, lengths=None, mask=None, out=None, portable=False):
    """hidden [B, T, H], W [V, H] (bf16/fp16, contiguous, cuda), bias [V] fp32, lengths [B] int32,
    mask [B, T] uint8/bool. Returns out [B, V] fp32."""
    B, T, H = hidden.shape
    V = W.shape[0]
    assert W.shape[1] == H and W.dtype == hidden.dtype and hidden.is_contiguous() and W.is_contiguous()
    if bias is not None:
        assert bias.dtype == torch.float32 and bias.is_contiguous() and bias.numel() == V
    if lengths is not None:
        assert lengths.dtype == torch.int32 and lengths.numel() == B
    if mask is not None:
        mask = mask.to(torch.uint8).contiguous()
        assert mask.shape == (B, T)
    if out is None:
        out = torch.empty(B, V, dtype=torch.float32, device=hidden.device)
    stream = ctypes.c_void_p(torch.cuda.current_stream(hidden.device).cuda_stream)
    fn = _lib.lsr_cuda_sparse_head_portable if portable else _lib.lsr_cuda_sparse_head
    rc = fn(_ptr(hidden), _ptr(lengths), _ptr(mask), _ptr(W), _ptr(bias), _ptr(out), B, T, H, V,
            DTYPES[hidden.dtype], stream)
    if rc != 0:
        raise RuntimeError(f"lsr_cuda_sparse_head rc={rc}: {_lib.lsr_cuda_last_error().decode()}")
    return out


def dense_to_csr(dense, capacity=None):
    B, V = dense.shape
    dev = dense.device
    row_ptr = torch.empty(B + 1, dtype=torch.int32, device=dev)
    scratch = torch.empty(B, dtype=torch.int32, device=dev)
    if capacity is None:
        capacity = int((dense != 0).sum().item())
    cols = torch.empty(max(capacity, 1), dtype=torch.int32, device=dev)
    vals = torch.empty(max(capacity, 1), dtype=torch.float32, device=dev)
    stream = ctypes.c_void_p(torch.cuda.current_stream(dev).cuda_stream)
    rc = _lib.lsr_cuda_dense_to_csr(_ptr(dense), B, V, _ptr(row_ptr), _ptr(cols), _ptr(vals), capacity,
                                    _ptr(scratch), stream)
    if rc != 0:
        raise RuntimeError(f"lsr_cuda_dense_to_csr rc={rc}: {_lib.lsr_cuda_last_error().decode()}")
    return row_ptr, cols[:capacity], vals[:capacity]
