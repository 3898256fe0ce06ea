// C ABI of the CUDA fused sparse LM head (issue 7). Contract = the CPU kernel
// native/src/head/fused-head.cc (docs/encoder.md):
//
//   out[b, v] = log1p(relu(max over valid tokens t of hidden[b, t, :] · W[v, :] + bias[v]))
//   out[b, v] = 0 when sequence b has no valid token.
//
// A token (b, t) is valid iff t < lengths[b] (lengths == NULL: every t < T) and, when mask != NULL,
// mask[b * T + t] != 0. Because log1p∘relu is monotone, the kernel keeps only a running max of the
// raw dot products per [b, v] on chip (tensor-core bf16/fp16 products, fp32 accumulation); the
// [tokens, vocab] logits never touch device memory. Two internal modes, same results (docs/gpu.md):
// T a multiple of 256 (or within 1/16 of one): per-sequence tiles, 256-token tiles past lengths[b]
// skipped; otherwise rows of [B*T, H] packed into 256-row tiles (no rounding of T up to 256; out is
// zeroed with cudaMemsetAsync, then combined with atomicMax). LSR_CUDA_HEAD_MODE=seq|packed forces
// one (tests, benchmarks).
//
// All pointers are DEVICE pointers; every call is asynchronous on `stream` (0 = legacy default).
// Layouts (row-major, contiguous):
//   hidden  [B, T, H]  bf16 or fp16 (dtype argument), 16-byte aligned, H % 8 == 0
//   W       [V, H]     same dtype as hidden, 16-byte aligned
//   bias    [V]        fp32, may be NULL (= 0)
//   lengths [B]        int32, may be NULL (= T for every sequence); values are clamped to [0, T]
//   mask    [B, T]     uint8, may be NULL
//   out     [B, V]     fp32, fully written by the call (no need to clear it first)
//
// Build: native/cuda/head-build.sh (needs nvcc; see docs/gpu.md) -> build/cuda/liblsr_cuda_head.so.
// Fast path: sm_90 (H100/H200), wgmma + TMA. Other GPUs take a slow portable kernel (same results).
#pragma once

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

// Element type of hidden and W (fp32: the backward only; the forward kernels take bf16/fp16).
enum lsr_cuda_dtype { LSR_CUDA_BF16 = 0, LSR_CUDA_FP16 = 1, LSR_CUDA_FP32 = 2 };

// Return codes.
enum lsr_cuda_status {
  LSR_CUDA_OK = 0,
  LSR_CUDA_BAD_ARGUMENT = 1,  // null pointer, non-positive size, H % 8 != 0, misaligned pointer
  LSR_CUDA_LAUNCH_FAILED = 2, // a CUDA call failed; lsr_cuda_last_error() says which
};

// The fused head. `stream` is a cudaStream_t passed as void* so that this header needs no CUDA
// headers. Returns LSR_CUDA_OK once the work is queued (errors inside the kernel surface at the
// next synchronization, as with any CUDA launch).
int lsr_cuda_sparse_head(const void* hidden, const int32_t* lengths, const uint8_t* mask,
                         const void* W, const float* bias, float* out, int B, int T, int H, int V,
                         int dtype, void* stream);

// Training forward (issue 22): the same result in `out`, plus `argmax` [B, V] (int16 when
// argmax_bits == 16, which needs T <= 32767, else int32): the token t that won the max for (b, v);
// ties go to the lowest t (torch.max's choice); -1 where out[b, v] == 0 (max <= 0 or no valid
// token), i.e. where no gradient flows. Folded in the same kernel pass (sequence mode, which it
// forces); needs the sm_90a kernel: elsewhere it returns LSR_CUDA_BAD_ARGUMENT.
int lsr_cuda_sparse_head_argmax(const void* hidden, const int32_t* lengths, const uint8_t* mask,
                                const void* W, const float* bias, float* out, void* argmax,
                                int argmax_bits, int B, int T, int H, int V, int dtype, void* stream);

// Backward (issue 22). Inputs: hidden [B, T, H] and W [V, H] (bf16, fp16 or fp32, same type,
// H % 8 == 0, 16-byte aligned), out and argmax as the forward wrote them, grad_out [B, V] fp32.
// With g = grad_out[b, v] · exp(-out[b, v]) (= grad_out / (1 + z)) on the pairs whose argmax t* >= 0:
//   grad_hidden [B, T, H] fp32 = Σ_{v: t*[b,v] = t} g · W[v]   (every element written)
//   grad_W      [V, H]    fp32 = Σ_b g · hidden[b, t*]
//   grad_bias   [V]       fp32 = Σ_b g
// Any of the three may be NULL (not computed). Touches only the active (b, v) pairs; never forms
// [tokens × V] or a dense [B, V] × [V, H] product. Deterministic: fixed summation orders, no
// floating-point atomics (bitwise identical results on every call). `workspace` (device memory
// of lsr_cuda_sparse_head_backward_workspace(B, T, V) bytes) is needed when grad_hidden != NULL;
// T <= 25,600 for grad_hidden. Asynchronous on `stream`.
size_t lsr_cuda_sparse_head_backward_workspace(int B, int T, int V);
int lsr_cuda_sparse_head_backward(const void* hidden, const void* W, const float* out,
                                  const void* argmax, int argmax_bits, const float* grad_out,
                                  float* grad_hidden, float* grad_W, float* grad_bias, void* workspace,
                                  size_t workspace_bytes, int B, int T, int H, int V, int dtype,
                                  void* stream);

// Same, forcing the portable (slow, CUDA-core) kernel: for tests and non-Hopper GPUs.
int lsr_cuda_sparse_head_portable(const void* hidden, const int32_t* lengths, const uint8_t* mask,
                                  const void* W, const float* bias, float* out, int B, int T, int H,
                                  int V, int dtype, void* stream);

// Non-zeros of a dense [B, V] output, per row in vocabulary order (CSR): row_ptr [B+1] int32,
// cols [capacity] int32, vals [capacity] fp32, all device pointers. Writes row_ptr always; writes
// cols/vals only where they fit in `capacity` (check row_ptr[B] <= capacity after the call).
// `scratch` needs B int32. Asynchronous on `stream`.
int lsr_cuda_dense_to_csr(const float* dense, int B, int V, int32_t* row_ptr, int32_t* cols,
                          float* vals, int capacity, int32_t* scratch, void* stream);

// Text of the last error on this thread ("" if none).
const char* lsr_cuda_last_error(void);

#ifdef __cplusplus
}
#endif
