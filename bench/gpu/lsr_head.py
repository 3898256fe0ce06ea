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
# Training entry points (issue 22): forward with argmax, backward.
_lib.lsr_cuda_sparse_head_argmax.argtypes = [_P, _P, _P, _P, _P, _P, _P, _I, _I, _I, _I, _I, _I, _P]
_lib.lsr_cuda_sparse_head_argmax.restype = _I
_lib.lsr_cuda_sparse_head_backward_workspace.argtypes = [_I, _I, _I]
_lib.lsr_cuda_sparse_head_backward_workspace.restype = ctypes.c_size_t
_lib.lsr_cuda_sparse_head_backward.argtypes = [_P, _P, _P, _P, _I, _P, _P, _P, _P, _P, ctypes.c_size_t,
                                               _I, _I, _I, _I, _I, _P]
_lib.lsr_cuda_sparse_head_backward.restype = _I

DTYPES = {torch.bfloat16: 0, torch.float16: 1}
BW_DTYPES = {torch.bfloat16: 0, torch.float16: 1, torch.float32: 2}


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


def _check(rc, what):
    if rc != 0:
        raise RuntimeError(f"{what} rc={rc}: {_lib.lsr_cuda_last_error().decode()}")


def sparse_head_argmax(hidden, W, bias, lengths, mask, out, argmax):
    """Forward that also writes the winning token: hidden [B, T, H], W [V, H] (bf16/fp16), bias [V]
    fp32 or None, lengths [B] int32 or None, mask [B, T] uint8 or None, out [B, V] fp32, argmax [B, V]
    int16 (T <= 32767) or int32. Needs the sm_90a kernel."""
    B, T, H = hidden.shape
    V = W.shape[0]
    assert W.shape[1] == H and W.dtype == hidden.dtype and hidden.is_contiguous() and W.is_contiguous()
    assert out.shape == (B, V) and out.dtype == torch.float32 and out.is_contiguous()
    assert argmax.shape == (B, V) and argmax.dtype in (torch.int16, torch.int32) and argmax.is_contiguous()
    if bias is not None:
        assert bias.dtype == torch.float32 and bias.is_contiguous() and bias.numel() == V
    if lengths is not None:
        assert lengths.dtype == torch.int32 and lengths.numel() == B and lengths.is_contiguous()
    if mask is not None:
        assert mask.dtype == torch.uint8 and mask.shape == (B, T) and mask.is_contiguous()
    stream = ctypes.c_void_p(torch.cuda.current_stream(hidden.device).cuda_stream)
    bits = 16 if argmax.dtype == torch.int16 else 32
    _check(_lib.lsr_cuda_sparse_head_argmax(_ptr(hidden), _ptr(lengths), _ptr(mask), _ptr(W), _ptr(bias),
                                            _ptr(out), _ptr(argmax), bits, B, T, H, V, DTYPES[hidden.dtype],
                                            stream), "lsr_cuda_sparse_head_argmax")
    return out, argmax


def backward_workspace_bytes(B, T, V):
    return int(_lib.lsr_cuda_sparse_head_backward_workspace(B, T, V))


def sparse_head_backward(hidden, W, out, argmax, grad_out, grad_hidden=None, grad_W=None, grad_bias=None,
                         workspace=None):
    """Writes the fp32 gradients that are not None (see sparse-head.h); hidden/W bf16, fp16 or fp32."""
    B, T, H = hidden.shape
    V = W.shape[0]
    assert W.dtype == hidden.dtype and hidden.is_contiguous() and W.is_contiguous()
    assert out.is_contiguous() and argmax.is_contiguous() and grad_out.is_contiguous()
    assert grad_out.dtype == torch.float32 and grad_out.shape == (B, V)
    for g, shape in ((grad_hidden, (B, T, H)), (grad_W, (V, H)), (grad_bias, (V,))):
        if g is not None:
            assert g.dtype == torch.float32 and tuple(g.shape) == shape and g.is_contiguous()
    ws_bytes = 0
    if grad_hidden is not None:
        ws_bytes = backward_workspace_bytes(B, T, V)
        if workspace is None or workspace.numel() * workspace.element_size() < ws_bytes:
            workspace = torch.empty(ws_bytes, dtype=torch.uint8, device=hidden.device)
    stream = ctypes.c_void_p(torch.cuda.current_stream(hidden.device).cuda_stream)
    bits = 16 if argmax.dtype == torch.int16 else 32
    _check(_lib.lsr_cuda_sparse_head_backward(_ptr(hidden), _ptr(W), _ptr(out), _ptr(argmax), bits, _ptr(grad_out),
                                              _ptr(grad_hidden), _ptr(grad_W), _ptr(grad_bias),
                                              _ptr(workspace if grad_hidden is not None else None), ws_bytes,
                                              B, T, H, V, BW_DTYPES[hidden.dtype], stream),
           "lsr_cuda_sparse_head_backward")
