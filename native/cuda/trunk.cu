// The CUDA BERT trunk (native/cuda/trunk.h). Row-major activations, N = texts × seq tokens:
//   x   fp32 [N, H]   the residual stream (every LayerNorm writes it)
//   xb  T    [N, H]   x in the GEMM type (bf16, or fp32 in the fp32 precision)
//   qkv T    [N, 3H]  one GEMM for query, key, value; biases added in place
//   S   fp32 [B·heads, seq, seq] scores, P T the masked softmax of S
//   ctx T [N, H], tmp T [N, H], inter T [N, I]
// cuBLAS is column-major: the row-major Y[N, out] = X[N, in] · W[out, in]^T is the column-major
// Y^T = op_T(W) · X^T, i.e. gemm(T, N, m = out, n = N, k = in, A = W, lda = in, B = X, ldb = in).
#include "trunk.h"
#include "sparse-head.h"

#include <cublas_v2.h>
#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <cuda_runtime.h>
#include <dlfcn.h>
#include <mma.h>

#include <cmath>
#include <cstdio>
#include <cstring>
#include <mutex>
#include <string>
#include <type_traits>
#include <vector>

namespace {

thread_local std::string g_error;

struct Failure {
  std::string what;
};

#define CK(call)                                                                              \
  do {                                                                                        \
    cudaError_t e_ = (call);                                                                  \
    if (e_ != cudaSuccess) throw Failure{std::string(#call) + ": " + cudaGetErrorString(e_)}; \
  } while (0)
#define CB(call)                                                                                   \
  do {                                                                                             \
    cublasStatus_t s_ = (call);                                                                    \
    if (s_ != CUBLAS_STATUS_SUCCESS) throw Failure{std::string(#call) + ": cublas status " +       \
                                                   std::to_string(static_cast<int>(s_))};          \
  } while (0)

template <typename T> __device__ __forceinline__ float to_f(T v);
template <> __device__ __forceinline__ float to_f<float>(float v) { return v; }
template <> __device__ __forceinline__ float to_f<__nv_bfloat16>(__nv_bfloat16 v) { return __bfloat162float(v); }
template <> __device__ __forceinline__ float to_f<__half>(__half v) { return __half2float(v); }
template <typename T> __device__ __forceinline__ T from_f(float v);
template <> __device__ __forceinline__ float from_f<float>(float v) { return v; }
template <> __device__ __forceinline__ __nv_bfloat16 from_f<__nv_bfloat16>(float v) { return __float2bfloat16_rn(v); }
template <> __device__ __forceinline__ __half from_f<__half>(float v) { return __float2half_rn(v); }

template <typename T> constexpr cudaDataType_t cuda_type() {
  return std::is_same<T, float>::value ? CUDA_R_32F : std::is_same<T, __half>::value ? CUDA_R_16F : CUDA_R_16BF;
}

// ---- kernels -------------------------------------------------------------------------------

constexpr int LN_THREADS = 256;
constexpr int LN_VPT = 4;  // values per thread: hidden <= 1024

__device__ __forceinline__ float block_sum(float v, float* shared) {
  for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
  const int warp = threadIdx.x >> 5, lane = threadIdx.x & 31;
  __syncthreads();  // shared may still be read by a previous reduction
  if (lane == 0) shared[warp] = v;
  __syncthreads();
  float s = 0.f;
  const int warps = blockDim.x >> 5;
  for (int i = 0; i < warps; i++) s += shared[i];
  return s;
}

// LayerNorm of v[] (this thread's values of one row) in place; two passes, fp32.
__device__ __forceinline__ void layer_norm_row(float (&v)[LN_VPT], int H, const float* g, const float* b, float eps,
                                               float* shared) {
  float s = 0.f;
#pragma unroll
  for (int i = 0; i < LN_VPT; i++) {
    const int c = threadIdx.x + i * LN_THREADS;
    if (c < H) s += v[i];
  }
  const float mean = block_sum(s, shared) / H;
  float q = 0.f;
#pragma unroll
  for (int i = 0; i < LN_VPT; i++) {
    const int c = threadIdx.x + i * LN_THREADS;
    if (c < H) {
      const float d = v[i] - mean;
      q += d * d;
    }
  }
  const float rstd = rsqrtf(block_sum(q, shared) / H + eps);
#pragma unroll
  for (int i = 0; i < LN_VPT; i++) {
    const int c = threadIdx.x + i * LN_THREADS;
    if (c < H) v[i] = (v[i] - mean) * rstd * g[c] + b[c];
  }
}

// One block per token: word + position + token type (0), LayerNorm -> x (fp32), xb (T).
template <typename T>
__global__ void __launch_bounds__(LN_THREADS) embed_ln(const int32_t* ids, int seq, int H, int vocab,
                                                       const float* word, const float* pos, const float* type,
                                                       const float* g, const float* b, float eps, float* x, T* xb) {
  __shared__ float shared[32];
  const int n = blockIdx.x, t = n % seq;
  int id = ids[n];
  if (id < 0 || id >= vocab) id = 0;
  float v[LN_VPT];
#pragma unroll
  for (int i = 0; i < LN_VPT; i++) {
    const int c = threadIdx.x + i * LN_THREADS;
    v[i] = c < H ? word[(size_t)id * H + c] + pos[(size_t)t * H + c] + type[c] : 0.f;
  }
  layer_norm_row(v, H, g, b, eps, shared);
#pragma unroll
  for (int i = 0; i < LN_VPT; i++) {
    const int c = threadIdx.x + i * LN_THREADS;
    if (c < H) {
      x[(size_t)n * H + c] = v[i];
      xb[(size_t)n * H + c] = from_f<T>(v[i]);
    }
  }
}

// One block per token: v = (x_in ? x_in : 0) + y + (bias ? bias : 0); LayerNorm -> x_out (fp32,
// optional), xb (T).
template <typename T>
__global__ void __launch_bounds__(LN_THREADS) add_ln(const float* x_in, const T* y, const float* bias, int H,
                                                     const float* g, const float* b, float eps, float* x_out, T* xb) {
  __shared__ float shared[32];
  const size_t row = (size_t)blockIdx.x * H;
  float v[LN_VPT];
#pragma unroll
  for (int i = 0; i < LN_VPT; i++) {
    const int c = threadIdx.x + i * LN_THREADS;
    v[i] = 0.f;
    if (c < H) {
      v[i] = to_f<T>(y[row + c]);
      if (bias) v[i] += bias[c];
      if (x_in) v[i] += x_in[row + c];
    }
  }
  layer_norm_row(v, H, g, b, eps, shared);
#pragma unroll
  for (int i = 0; i < LN_VPT; i++) {
    const int c = threadIdx.x + i * LN_THREADS;
    if (c < H) {
      if (x_out) x_out[row + c] = v[i];
      xb[row + c] = from_f<T>(v[i]);
    }
  }
}

// y[n, c] += bias[c] (and GELU, exact erf form as BERT's "gelu") over [rows, cols], two values a
// thread (cols is even); 32-bit indices (rows × cols < 2^32, checked on the host).
template <typename T, bool GELU>
__global__ void bias_act(T* y, const float* bias, unsigned total, unsigned cols) {
  for (unsigned i = 2 * (blockIdx.x * blockDim.x + threadIdx.x); i < total; i += 2 * gridDim.x * blockDim.x) {
    const unsigned c = i % cols;
    float v0 = to_f<T>(y[i]) + bias[c], v1 = to_f<T>(y[i + 1]) + bias[c + 1];
    if (GELU) {
      v0 = 0.5f * v0 * (1.f + erff(v0 * 0.70710678118654752f));
      v1 = 0.5f * v1 * (1.f + erff(v1 * 0.70710678118654752f));
    }
    y[i] = from_f<T>(v0);
    y[i + 1] = from_f<T>(v1);
  }
}

// ---- 16-byte vector access: 8 values of T (fp16/bf16: one uint4; fp32: two float4) -------------

__device__ __forceinline__ void load8(const float* p, float (&v)[8]) {
  const float4 a = reinterpret_cast<const float4*>(p)[0], b = reinterpret_cast<const float4*>(p)[1];
  v[0] = a.x, v[1] = a.y, v[2] = a.z, v[3] = a.w, v[4] = b.x, v[5] = b.y, v[6] = b.z, v[7] = b.w;
}
__device__ __forceinline__ void store8(float* p, const float (&v)[8]) {
  reinterpret_cast<float4*>(p)[0] = make_float4(v[0], v[1], v[2], v[3]);
  reinterpret_cast<float4*>(p)[1] = make_float4(v[4], v[5], v[6], v[7]);
}
__device__ __forceinline__ void load8(const __half* p, float (&v)[8]) {
  const uint4 u = *reinterpret_cast<const uint4*>(p);
  const __half2* h = reinterpret_cast<const __half2*>(&u);
#pragma unroll
  for (int i = 0; i < 4; i++) {
    const float2 f = __half22float2(h[i]);
    v[2 * i] = f.x, v[2 * i + 1] = f.y;
  }
}
__device__ __forceinline__ void store8(__half* p, const float (&v)[8]) {
  uint4 u;
  __half2* h = reinterpret_cast<__half2*>(&u);
#pragma unroll
  for (int i = 0; i < 4; i++) h[i] = __floats2half2_rn(v[2 * i], v[2 * i + 1]);
  *reinterpret_cast<uint4*>(p) = u;
}
__device__ __forceinline__ void load8(const __nv_bfloat16* p, float (&v)[8]) {
  const uint4 u = *reinterpret_cast<const uint4*>(p);
  const __nv_bfloat162* h = reinterpret_cast<const __nv_bfloat162*>(&u);
#pragma unroll
  for (int i = 0; i < 4; i++) {
    const float2 f = __bfloat1622float2(h[i]);
    v[2 * i] = f.x, v[2 * i + 1] = f.y;
  }
}
__device__ __forceinline__ void store8(__nv_bfloat16* p, const float (&v)[8]) {
  uint4 u;
  __nv_bfloat162* h = reinterpret_cast<__nv_bfloat162*>(&u);
#pragma unroll
  for (int i = 0; i < 4; i++) h[i] = __floats2bfloat162_rn(v[2 * i], v[2 * i + 1]);
  *reinterpret_cast<uint4*>(p) = u;
}

// add_ln with 8 consecutive values a thread (H % 8 == 0, H / 8 threads rounded up to whole warps,
// H <= 2048): 16-byte loads and stores.
template <typename T>
__global__ void __launch_bounds__(256) add_ln_vec(const float* x_in, const T* y, const float* bias, int H, const float* g,
                                                  const float* b, float eps, float* x_out, T* xb) {
  __shared__ float shared[32];
  const size_t row = (size_t)blockIdx.x * H;
  const int c = threadIdx.x * 8;
  const bool on = c < H;
  float v[8] = {0, 0, 0, 0, 0, 0, 0, 0}, t[8];
  if (on) {
    load8(y + row + c, v);
    if (bias) {
      load8(bias + c, t);
#pragma unroll
      for (int i = 0; i < 8; i++) v[i] += t[i];
    }
    if (x_in) {
      load8(x_in + row + c, t);
#pragma unroll
      for (int i = 0; i < 8; i++) v[i] += t[i];
    }
  }
  float s = 0.f;
#pragma unroll
  for (int i = 0; i < 8; i++) s += v[i];
  const float mean = block_sum(s, shared) / H;
  float q = 0.f;
  if (on) {
#pragma unroll
    for (int i = 0; i < 8; i++) q += (v[i] - mean) * (v[i] - mean);
  }
  const float rstd = rsqrtf(block_sum(q, shared) / H + eps);
  if (!on) return;
  float gg[8], bb[8];
  load8(g + c, gg);
  load8(b + c, bb);
#pragma unroll
  for (int i = 0; i < 8; i++) v[i] = (v[i] - mean) * rstd * gg[i] + bb[i];
  if (x_out) store8(x_out + row + c, v);
  store8(xb + row + c, v);
}

// bias_act with 8 values a thread (cols % 8 == 0).
template <typename T, bool GELU>
__global__ void bias_act_vec(T* y, const float* bias, unsigned total, unsigned cols) {
  for (unsigned i = 8 * (blockIdx.x * blockDim.x + threadIdx.x); i < total; i += 8 * gridDim.x * blockDim.x) {
    float v[8], bb[8];
    load8(y + i, v);
    load8(bias + i % cols, bb);
#pragma unroll
    for (int k = 0; k < 8; k++) {
      v[k] += bb[k];
      if (GELU) v[k] = 0.5f * v[k] * (1.f + erff(v[k] * 0.70710678118654752f));
    }
    store8(y + i, v);
  }
}

// masked_softmax with 4 consecutive keys a lane (seq % 4 == 0, seq <= 512): float4 loads of S.
template <typename T>
__global__ void masked_softmax_vec(const float* S, T* P, const uint8_t* mask, int heads, int seq, size_t rows) {
  const size_t row = (size_t)blockIdx.x * (blockDim.x >> 5) + (threadIdx.x >> 5);
  const int lane = threadIdx.x & 31;
  if (row >= rows) return;
  const int b = (int)(row / ((size_t)heads * seq));
  const float4* s = reinterpret_cast<const float4*>(S + row * seq);
  const uchar4* m = reinterpret_cast<const uchar4*>(mask + (size_t)b * seq);
  constexpr int STEPS = 512 / 128;
  float v[STEPS][4];
  float mx = -INFINITY;
#pragma unroll
  for (int i = 0; i < STEPS; i++) {
    const int j4 = lane + i * 32;  // index of the 4-key group
    if (j4 * 4 < seq) {
      const float4 x = s[j4];
      const uchar4 k = m[j4];
      v[i][0] = k.x ? x.x : -INFINITY, v[i][1] = k.y ? x.y : -INFINITY;
      v[i][2] = k.z ? x.z : -INFINITY, v[i][3] = k.w ? x.w : -INFINITY;
    } else {
      v[i][0] = v[i][1] = v[i][2] = v[i][3] = -INFINITY;
    }
#pragma unroll
    for (int e = 0; e < 4; e++) mx = fmaxf(mx, v[i][e]);
  }
  for (int o = 16; o > 0; o >>= 1) mx = fmaxf(mx, __shfl_xor_sync(0xffffffffu, mx, o));
  float sum = 0.f;
#pragma unroll
  for (int i = 0; i < STEPS; i++)
#pragma unroll
    for (int e = 0; e < 4; e++) {
      v[i][e] = (mx == -INFINITY || v[i][e] == -INFINITY) ? 0.f : __expf(v[i][e] - mx);
      sum += v[i][e];
    }
  for (int o = 16; o > 0; o >>= 1) sum += __shfl_xor_sync(0xffffffffu, sum, o);
  const float inv = sum > 0.f ? 1.f / sum : 0.f;
  T* p = P + row * seq;
#pragma unroll
  for (int i = 0; i < STEPS; i++) {
    const int j4 = lane + i * 32;
    if (j4 * 4 < seq)
#pragma unroll
      for (int e = 0; e < 4; e++) p[j4 * 4 + e] = from_f<T>(v[i][e] * inv);
  }
}

// One warp per score row (bh, i): softmax over keys j < seq with mask[b, j] != 0 -> P (T).
// Values per lane: seq <= 32 * 16 = 512.
constexpr int SM_MAX_PER_LANE = 16;
template <typename T>
__global__ void masked_softmax(const float* S, T* P, const uint8_t* mask, int heads, int seq, size_t rows) {
  const size_t row = (size_t)blockIdx.x * (blockDim.x >> 5) + (threadIdx.x >> 5);
  const int lane = threadIdx.x & 31;
  if (row >= rows) return;
  const int b = (int)(row / ((size_t)heads * seq));
  const float* s = S + row * seq;
  const uint8_t* m = mask + (size_t)b * seq;
  float v[SM_MAX_PER_LANE];
  float mx = -INFINITY;
#pragma unroll
  for (int i = 0; i < SM_MAX_PER_LANE; i++) {
    const int j = lane + i * 32;
    v[i] = (j < seq && m[j]) ? s[j] : -INFINITY;
    mx = fmaxf(mx, v[i]);
  }
  for (int o = 16; o > 0; o >>= 1) mx = fmaxf(mx, __shfl_xor_sync(0xffffffffu, mx, o));
  float sum = 0.f;
#pragma unroll
  for (int i = 0; i < SM_MAX_PER_LANE; i++) {
    v[i] = (mx == -INFINITY || v[i] == -INFINITY) ? 0.f : __expf(v[i] - mx);
    sum += v[i];
  }
  for (int o = 16; o > 0; o >>= 1) sum += __shfl_xor_sync(0xffffffffu, sum, o);
  const float inv = sum > 0.f ? 1.f / sum : 0.f;
  T* p = P + row * seq;
#pragma unroll
  for (int i = 0; i < SM_MAX_PER_LANE; i++) {
    const int j = lane + i * 32;
    if (j < seq) p[j] = from_f<T>(v[i] * inv);
  }
}

// Opt-in (LSR_TRUNK_ATTENTION=fused), measured slower than the cuBLAS path: every warp streams
// all of K and V through WMMA fragment loads from L2 and runs its 16 softmax rows one by one.
// Fused attention for head size 64 and seq % 16 == 0 (fp16/bf16): one block of 4 warps per
// (text, head, 64 query rows); each warp takes 16 rows: scores Q·K^T with tensor cores (WMMA,
// fp32 accumulation) into shared memory for the whole key range (seq <= 512), an exact masked
// softmax there, then P·V with tensor cores, written straight into ctx's [token, hidden] layout.
// Q, K, V are read from the fused QKV buffer (biases already added); S and P never reach device
// memory. Shared memory: 64 × (seq + 4) floats + 64 × (seq + 8) T.
constexpr int FA_ROWS = 64;
constexpr int FA_DH = 64;

inline size_t fused_attention_smem(int seq, size_t elem) {
  return (size_t)FA_ROWS * (seq + 4) * sizeof(float) + (size_t)FA_ROWS * (seq + 8) * elem;
}

template <typename T>
__global__ void __launch_bounds__(128) fused_attention(const T* qkv, const uint8_t* mask, T* ctx, int seq, int heads,
                                                       int H, float scale) {
  using namespace nvcuda;
  extern __shared__ __align__(128) unsigned char fa_smem[];
  const int ldS = seq + 4, ldP = seq + 8;
  float* S = reinterpret_cast<float*>(fa_smem);
  T* P = reinterpret_cast<T*>(fa_smem + (size_t)FA_ROWS * ldS * sizeof(float));
  const int bh = blockIdx.y, b = bh / heads, h = bh % heads;
  const int warp = threadIdx.x >> 5, lane = threadIdx.x & 31;
  const int row0 = blockIdx.x * FA_ROWS + warp * 16;
  if (row0 >= seq) return;  // seq % 16 == 0: a warp's rows are all in or all out
  const size_t ld = 3 * (size_t)H;
  const T* Q = qkv + (size_t)b * seq * ld + (size_t)h * FA_DH;
  const T* K = Q + H;
  const T* V = Q + 2 * H;
  const uint8_t* m = mask + (size_t)b * seq;
  float* Sw = S + (size_t)warp * 16 * ldS;
  T* Pw = P + (size_t)warp * 16 * ldP;

  wmma::fragment<wmma::matrix_a, 16, 16, 16, T, wmma::row_major> qa[FA_DH / 16];
#pragma unroll
  for (int kk = 0; kk < FA_DH / 16; kk++) wmma::load_matrix_sync(qa[kk], Q + (size_t)row0 * ld + kk * 16, (unsigned)ld);
  for (int j = 0; j < seq; j += 16) {
    wmma::fragment<wmma::accumulator, 16, 16, 16, float> acc;
    wmma::fill_fragment(acc, 0.f);
#pragma unroll
    for (int kk = 0; kk < FA_DH / 16; kk++) {
      wmma::fragment<wmma::matrix_b, 16, 16, 16, T, wmma::col_major> kb;  // K^T: (k, n) at K[n][k]
      wmma::load_matrix_sync(kb, K + (size_t)j * ld + kk * 16, (unsigned)ld);
      wmma::mma_sync(acc, qa[kk], kb, acc);
    }
    wmma::store_matrix_sync(Sw + j, acc, ldS, wmma::mem_row_major);
  }
  __syncwarp();
  for (int r = 0; r < 16; r++) {
    float* s = Sw + (size_t)r * ldS;
    float mx = -INFINITY;
    for (int j = lane; j < seq; j += 32)
      if (m[j]) mx = fmaxf(mx, s[j] * scale);
    for (int o = 16; o > 0; o >>= 1) mx = fmaxf(mx, __shfl_xor_sync(0xffffffffu, mx, o));
    float sum = 0.f;
    for (int j = lane; j < seq; j += 32) {
      const float e = (m[j] && mx != -INFINITY) ? __expf(s[j] * scale - mx) : 0.f;
      s[j] = e;
      sum += e;
    }
    for (int o = 16; o > 0; o >>= 1) sum += __shfl_xor_sync(0xffffffffu, sum, o);
    const float inv = sum > 0.f ? 1.f / sum : 0.f;
    for (int j = lane; j < seq; j += 32) Pw[(size_t)r * ldP + j] = from_f<T>(s[j] * inv);
  }
  __syncwarp();
  wmma::fragment<wmma::accumulator, 16, 16, 16, float> o[FA_DH / 16];
#pragma unroll
  for (int d = 0; d < FA_DH / 16; d++) wmma::fill_fragment(o[d], 0.f);
  for (int j = 0; j < seq; j += 16) {
    wmma::fragment<wmma::matrix_a, 16, 16, 16, T, wmma::row_major> pa;
    wmma::load_matrix_sync(pa, Pw + j, ldP);
#pragma unroll
    for (int d = 0; d < FA_DH / 16; d++) {
      wmma::fragment<wmma::matrix_b, 16, 16, 16, T, wmma::row_major> vb;
      wmma::load_matrix_sync(vb, V + (size_t)j * ld + d * 16, (unsigned)ld);
      wmma::mma_sync(o[d], pa, vb, o[d]);
    }
  }
  __syncwarp();
#pragma unroll
  for (int d = 0; d < FA_DH / 16; d++) wmma::store_matrix_sync(Sw + d * 16, o[d], ldS, wmma::mem_row_major);
  __syncwarp();
  T* out = ctx + ((size_t)b * seq + row0) * H + (size_t)h * FA_DH;
  for (int i = lane; i < 16 * FA_DH; i += 32) {
    const int r = i / FA_DH, c = i % FA_DH;
    out[(size_t)r * H + c] = from_f<T>(Sw[(size_t)r * ldS + c]);
  }
}

// Pointer arrays of the attention's batched GEMMs, batch index bh = b * heads + h.
template <typename T>
__global__ void attention_pointers(T* qkv, float* S, T* P, T* ctx, int batch, int heads, int seq, int H, int dh,
                                   const void** q, const void** k, const void** v, void** s, const void** p_in,
                                   void** p_out, void** c) {
  const int bh = blockIdx.x * blockDim.x + threadIdx.x;
  if (bh >= batch * heads) return;
  const int b = bh / heads, h = bh % heads;
  T* base = qkv + (size_t)b * seq * 3 * H + (size_t)h * dh;
  q[bh] = base;
  k[bh] = base + H;
  v[bh] = base + 2 * H;
  s[bh] = S + (size_t)bh * seq * seq;
  p_in[bh] = P + (size_t)bh * seq * seq;
  p_out[bh] = P + (size_t)bh * seq * seq;
  c[bh] = ctx + (size_t)b * seq * H + (size_t)h * dh;
}

// The simple head's pooling: out[b, v] = log1p(relu(max over valid t of logits[b, t, v] + bias[v])).
__global__ void pool_logits(const float* logits, const uint8_t* mask, const float* bias, int texts, int seq, int V,
                            float* out) {
  const int v = blockIdx.x * blockDim.x + threadIdx.x;
  const int b = blockIdx.y;
  if (v >= V || b >= texts) return;
  float mx = -INFINITY;
  for (int t = 0; t < seq; t++)
    if (mask[(size_t)b * seq + t]) mx = fmaxf(mx, logits[((size_t)b * seq + t) * V + v]);
  out[(size_t)b * V + v] = mx == -INFINITY ? 0.f : log1pf(fmaxf(0.f, mx + (bias ? bias[v] : 0.f)));
}

// ---- host side ------------------------------------------------------------------------------

template <typename T> T* dev_alloc(size_t n) {
  void* p = nullptr;
  CK(cudaMalloc(&p, n * sizeof(T) + 16));
  return static_cast<T*>(p);
}

uint16_t to_bf16_bits(float f) {
  uint32_t x;
  std::memcpy(&x, &f, 4);
  if ((x & 0x7fffffffu) > 0x7f800000u) return 0x7fc0;  // NaN
  return static_cast<uint16_t>((x + 0x7fffu + ((x >> 16) & 1u)) >> 16);
}

using HeadFn = int (*)(const void*, const int32_t*, const uint8_t*, const void*, const float*, float*, int, int, int,
                       int, int, void*);
using HeadErrFn = const char* (*)();

// The fused head, loaded once per process from beside this library/addon (or LSR_CUDA_HEAD_LIB).
struct FusedHeadLib {
  HeadFn fn = nullptr;
  HeadErrFn err = nullptr;
  std::string why = "not looked for";
};

FusedHeadLib& fused_head_lib() {
  static FusedHeadLib lib;
  static std::once_flag once;
  std::call_once(once, [] {
    std::vector<std::string> tries;
    if (const char* env = getenv("LSR_CUDA_HEAD_LIB")) tries.push_back(env);
    Dl_info info;
    if (dladdr(reinterpret_cast<void*>(&fused_head_lib), &info) && info.dli_fname) {
      std::string self = info.dli_fname;
      const size_t slash = self.rfind('/');
      tries.push_back((slash == std::string::npos ? std::string(".") : self.substr(0, slash)) + "/liblsr_cuda_head.so");
    }
    lib.why = "liblsr_cuda_head.so not found";
    for (const auto& path : tries) {
      void* h = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
      if (!h) {
        lib.why = std::string("dlopen ") + path + ": " + dlerror();
        continue;
      }
      lib.fn = reinterpret_cast<HeadFn>(dlsym(h, "lsr_cuda_sparse_head"));
      lib.err = reinterpret_cast<HeadErrFn>(dlsym(h, "lsr_cuda_last_error"));
      if (lib.fn) {
        lib.why = path;
        break;
      }
      lib.why = path + " has no lsr_cuda_sparse_head";
    }
  });
  return lib;
}

struct Layer {
  void *qkv_w, *o_w, *i_w, *out_w;  // T
  float *qkv_b, *o_b, *ln1_g, *ln1_b, *i_b, *out_b, *ln2_g, *ln2_b;
};

constexpr int PROFILE_STEPS = 11;
// With the fused attention kernel its whole time is under "attention_scores" (softmax, pv: 0).
const char* const PROFILE_NAMES[PROFILE_STEPS] = {"qkv_gemm", "qkv_bias", "attention_scores", "attention_softmax",
                                                  "attention_pv", "o_gemm",
                                                  "ln1", "ffn1_gemm", "bias_gelu", "ffn2_gemm", "ln2"};

struct TrunkBase {
  virtual ~TrunkBase() = default;
  std::vector<cudaEvent_t> pev;
  float prof[PROFILE_STEPS] = {0};
  int prof_batches = 0;
  bool profile_on = false;
  enum { ATTN_CUBLAS = 0, ATTN_FUSED = 1 } attention_mode = ATTN_CUBLAS;
  std::string attention_name = "none";
  bool slow_glue = false;
  int max_smem = 0;
  size_t fa_smem_set = 0;
  virtual void encode(const int32_t* ids, const uint8_t* mask, int texts, int seq, int head, float* out) = 0;
  std::mutex mu;
  std::string head_name = "none", device_name;
  float trunk_ms = 0, head_ms = 0, copy_ms = 0;
};

template <typename T>
struct Trunk : TrunkBase {
  lsr_trunk_config c;
  cudaStream_t stream = nullptr;
  cublasHandle_t blas = nullptr;
  cudaEvent_t ev[4];
  // weights
  float *word = nullptr, *pos = nullptr, *type = nullptr, *emb_g = nullptr, *emb_b = nullptr;
  std::vector<Layer> layers;
  void *tr_w = nullptr, *dec_w = nullptr;
  float *tr_b = nullptr, *tr_g = nullptr, *tr_lb = nullptr, *dec_b = nullptr;
  std::vector<void*> owned;
  // activations, grown on demand
  size_t cap_tokens = 0, cap_scores = 0, cap_bh = 0, cap_texts = 0, cap_logits = 0;
  int32_t* d_ids = nullptr;
  uint8_t* d_mask = nullptr;
  int32_t* d_len = nullptr;
  float *x = nullptr, *S = nullptr, *dout = nullptr, *logits = nullptr;
  T *xb = nullptr, *qkv = nullptr, *P = nullptr, *ctx = nullptr, *tmp = nullptr, *inter = nullptr;
  void** ptrs = nullptr;
  float* h_out = nullptr;  // pinned
  size_t h_out_cap = 0;

  template <typename U> U* keep(U* p) {
    owned.push_back(p);
    return p;
  }

  float* upload_f32(const float* host, size_t n) {
    float* d = keep(dev_alloc<float>(n));
    CK(cudaMemcpy(d, host, n * sizeof(float), cudaMemcpyHostToDevice));
    return d;
  }

  // Concatenates row blocks (each [rows_i, cols]) into one T matrix on the device.
  void* upload_gemm(std::initializer_list<const float*> parts, size_t rows_each, size_t cols) {
    const size_t n = parts.size() * rows_each * cols;
    T* d = keep(dev_alloc<T>(n));
    std::vector<T> host(n);
    size_t at = 0;
    for (const float* p : parts)
      for (size_t i = 0; i < rows_each * cols; i++, at++) {
        if constexpr (std::is_same<T, float>::value) host[at] = p[i];
        else if constexpr (std::is_same<T, __half>::value) host[at] = __float2half_rn(p[i]);
        else {
          const uint16_t bits = to_bf16_bits(p[i]);
          std::memcpy(&host[at], &bits, 2);
        }
      }
    CK(cudaMemcpy(d, host.data(), n * sizeof(T), cudaMemcpyHostToDevice));
    return d;
  }

  float* concat_f32(std::initializer_list<const float*> parts, size_t each) {
    std::vector<float> host;
    for (const float* p : parts) host.insert(host.end(), p, p + each);
    return upload_f32(host.data(), host.size());
  }

  Trunk(const lsr_trunk_config& cfg, const float* const* t) : c(cfg) {
    CK(cudaSetDevice(c.device));
    cudaDeviceProp prop;
    CK(cudaGetDeviceProperties(&prop, c.device));
    device_name = prop.name;
    max_smem = (int)prop.sharedMemPerBlockOptin;
    // The fused attention kernel is opt-in: on the H100 it took 123 ms where the cuBLAS path took
    // 61 ms (BERT-base, 2048 texts, batch 128; docs/gpu.md).
    if (const char* a = getenv("LSR_TRUNK_ATTENTION"))
      if (!strcmp(a, "fused")) attention_mode = ATTN_FUSED;
    // LSR_TRUNK_GLUE=scalar: the first (one value a thread) LayerNorm, bias/GELU and softmax kernels.
    if (const char* g = getenv("LSR_TRUNK_GLUE")) slow_glue = !strcmp(g, "scalar");
    CK(cudaStreamCreateWithFlags(&stream, cudaStreamNonBlocking));
    CB(cublasCreate(&blas));
    CB(cublasSetStream(blas, stream));
    CB(cublasSetMathMode(blas, std::is_same<T, float>::value ? CUBLAS_PEDANTIC_MATH : CUBLAS_DEFAULT_MATH));
    for (auto& e : ev) CK(cudaEventCreate(&e));
    const size_t H = c.hidden, I = c.intermediate, V = c.vocab;
    word = upload_f32(t[0], V * H);
    pos = upload_f32(t[1], (size_t)c.max_pos * H);
    type = upload_f32(t[2], (size_t)c.type_vocab * H);
    emb_g = upload_f32(t[3], H);
    emb_b = upload_f32(t[4], H);
    for (int l = 0; l < c.layers; l++) {
      const float* const* p = t + 5 + 16 * l;
      Layer L;
      L.qkv_w = upload_gemm({p[0], p[2], p[4]}, H, H);
      L.qkv_b = concat_f32({p[1], p[3], p[5]}, H);
      L.o_w = upload_gemm({p[6]}, H, H);
      L.o_b = upload_f32(p[7], H);
      L.ln1_g = upload_f32(p[8], H);
      L.ln1_b = upload_f32(p[9], H);
      L.i_w = upload_gemm({p[10]}, I, H);
      L.i_b = upload_f32(p[11], I);
      L.out_w = upload_gemm({p[12]}, H, I);
      L.out_b = upload_f32(p[13], H);
      L.ln2_g = upload_f32(p[14], H);
      L.ln2_b = upload_f32(p[15], H);
      layers.push_back(L);
    }
    const float* const* p = t + 5 + 16 * c.layers;
    tr_w = upload_gemm({p[0]}, H, H);
    tr_b = upload_f32(p[1], H);
    tr_g = upload_f32(p[2], H);
    tr_lb = upload_f32(p[3], H);
    dec_w = upload_gemm({p[4]}, V, H);
    dec_b = upload_f32(p[5], V);
  }

  ~Trunk() override {
    if (stream) cudaStreamSynchronize(stream);
    for (void* p : owned) cudaFree(p);
    for (void* p : {(void*)d_ids, (void*)d_mask, (void*)d_len, (void*)x, (void*)S, (void*)dout, (void*)logits,
                    (void*)xb, (void*)qkv, (void*)P, (void*)ctx, (void*)tmp, (void*)inter, (void*)ptrs})
      if (p) cudaFree(p);
    if (h_out) cudaFreeHost(h_out);
    for (auto& e : ev) cudaEventDestroy(e);
    for (auto& e : pev) cudaEventDestroy(e);
    if (blas) cublasDestroy(blas);
    if (stream) cudaStreamDestroy(stream);
  }

  template <typename U> void regrow(U*& p, size_t n) {
    if (p) CK(cudaFree(p));
    p = nullptr;
    p = dev_alloc<U>(n);
  }

  bool use_fused_attention(int seq) const {
    return !std::is_same<T, float>::value && attention_mode == ATTN_FUSED && c.hidden / c.heads == FA_DH &&
           seq % 16 == 0 && fused_attention_smem(seq, sizeof(T)) <= (size_t)max_smem;
  }

  void reserve(int texts, int seq) {
    const size_t N = (size_t)texts * seq, H = c.hidden, I = c.intermediate;
    if (N > cap_tokens) {
      regrow(d_ids, N);
      regrow(d_mask, N);
      regrow(x, N * H);
      regrow(xb, N * H);
      regrow(qkv, N * 3 * H);
      regrow(ctx, N * H);
      regrow(tmp, N * H);
      regrow(inter, N * I);
      cap_tokens = N;
    }
    const size_t bh = (size_t)texts * c.heads, scores = bh * seq * seq;
    if (!use_fused_attention(seq) && scores > cap_scores) {  // S and P only for the cuBLAS attention
      regrow(S, scores);
      regrow(P, scores);
      cap_scores = scores;
    }
    if (bh > cap_bh) {
      regrow(ptrs, 7 * bh);
      cap_bh = bh;
    }
    if ((size_t)texts > cap_texts) {
      regrow(dout, (size_t)texts * c.vocab);
      regrow(d_len, (size_t)texts);
      cap_texts = texts;
    }
  }

  void gemm(cublasOperation_t ta, cublasOperation_t tb, int m, int n, int k, float alpha, const void* A, int lda,
            const void* B, int ldb, void* C, cudaDataType_t ct, int ldc) {
    const float beta = 0.f;
    CB(cublasGemmEx(blas, ta, tb, m, n, k, &alpha, A, cuda_type<T>(), lda, B, cuda_type<T>(), ldb, &beta, C, ct, ldc,
                    CUBLAS_COMPUTE_32F, CUBLAS_GEMM_DEFAULT));
  }

  // Y[N, out] = X[N, in] · W[out, in]^T (no bias)
  void linear(const void* X, const void* W, void* Y, int N, int in, int out) {
    gemm(CUBLAS_OP_T, CUBLAS_OP_N, out, N, in, 1.f, W, in, X, in, Y, cuda_type<T>(), out);
  }

  void bias(T* y, const float* b, size_t rows, int cols, bool gelu) {
    const size_t total = rows * cols;
    if (total >= (1ull << 32) || cols % 2) throw Failure{"bias: rows × cols must be < 2^32 and cols even"};
    const int threads = 256;
    const int blocks = (int)std::min<size_t>((total / 2 + threads - 1) / threads, 132 * 32);
    if (cols % 8 == 0 && !slow_glue) {
      const int vblocks = (int)std::min<size_t>((total / 8 + threads - 1) / threads, 132 * 32);
      if (gelu) bias_act_vec<T, true><<<vblocks, threads, 0, stream>>>(y, b, (unsigned)total, (unsigned)cols);
      else bias_act_vec<T, false><<<vblocks, threads, 0, stream>>>(y, b, (unsigned)total, (unsigned)cols);
    } else if (gelu) bias_act<T, true><<<blocks, threads, 0, stream>>>(y, b, (unsigned)total, (unsigned)cols);
    else bias_act<T, false><<<blocks, threads, 0, stream>>>(y, b, (unsigned)total, (unsigned)cols);
    CK(cudaGetLastError());
  }

  // Residual + bias + LayerNorm: 16-byte vector kernel when H % 8 == 0 (and H <= 2048).
  void layer_norm(const float* x_in, const T* y, const float* bias, const float* g, const float* b, float* x_out,
                  T* out, int N) {
    const int H = c.hidden;
    if (H % 8 == 0 && H <= 2048 && !slow_glue) {
      const int threads = ((H / 8 + 31) / 32) * 32;
      add_ln_vec<T><<<N, threads, 0, stream>>>(x_in, y, bias, H, g, b, c.eps, x_out, out);
    } else {
      add_ln<T><<<N, LN_THREADS, 0, stream>>>(x_in, y, bias, H, g, b, c.eps, x_out, out);
    }
    CK(cudaGetLastError());
  }

  void run_trunk(int texts, int seq) {
    const int H = c.hidden, I = c.intermediate, heads = c.heads, dh = H / heads;
    const int N = texts * seq, bh = texts * heads;
    embed_ln<T><<<N, LN_THREADS, 0, stream>>>(d_ids, seq, H, c.vocab, word, pos, type, emb_g, emb_b, c.eps, x, xb);
    CK(cudaGetLastError());
    const void** q = (const void**)ptrs;
    const void** k = q + bh;
    const void** v = k + bh;
    void** s = (void**)(v + bh);
    const void** p_in = (const void**)(s + bh);
    void** p_out = (void**)(p_in + bh);
    void** cx = p_out + bh;
    attention_pointers<T><<<(bh + 127) / 128, 128, 0, stream>>>(qkv, S, P, ctx, texts, heads, seq, H, dh, q, k, v, s,
                                                                p_in, p_out, cx);
    CK(cudaGetLastError());
    const float scale = 1.f / std::sqrt((float)dh), one = 1.f, zero = 0.f;
    const size_t rows = (size_t)bh * seq;
    // cuBLAS batched GEMMs around a masked softmax, S and P in device memory; or, with
    // LSR_TRUNK_ATTENTION=fused where it applies (fp16/bf16, head size 64, seq % 16 == 0, the shared
    // memory fits), the fused kernel (correct, but twice as slow as this path: docs/gpu.md).
    const size_t fa_smem = fused_attention_smem(seq, sizeof(T));
    const bool fused_attn = use_fused_attention(seq);
    if constexpr (!std::is_same<T, float>::value) {
      if (fused_attn && fa_smem > fa_smem_set) {
        CK(cudaFuncSetAttribute(fused_attention<T>, cudaFuncAttributeMaxDynamicSharedMemorySize, (int)fa_smem));
        fa_smem_set = fa_smem;
      }
    }
    attention_name = fused_attn ? "fused" : "cublas";
    // Profiling on (lsr_trunk_set_profile): CUDA events between the steps of every layer, summed per step.
    const bool profile = profile_on;
    int mark_at = 0;
    auto mark = [&]() {
      if (!profile) return;
      if ((size_t)mark_at >= pev.size()) {
        pev.emplace_back();
        CK(cudaEventCreate(&pev.back()));
      }
      CK(cudaEventRecord(pev[mark_at++], stream));
    };
    mark();
    for (const Layer& L : layers) {
      linear(xb, L.qkv_w, qkv, N, H, 3 * H);
      mark();
      bias(qkv, L.qkv_b, N, 3 * H, false);
      mark();
      // S_bh = Q K^T / sqrt(dh): column-major C[j, i] = K[j] · Q[i]
      if (fused_attn) {
        if constexpr (!std::is_same<T, float>::value) {
          dim3 grid((seq + FA_ROWS - 1) / FA_ROWS, bh);
          fused_attention<T><<<grid, 128, fa_smem, stream>>>(qkv, d_mask, ctx, seq, heads, H, scale);
          CK(cudaGetLastError());
        }
        mark();
        mark();
      } else {
        CB(cublasGemmBatchedEx(blas, CUBLAS_OP_T, CUBLAS_OP_N, seq, seq, dh, &scale, k, cuda_type<T>(), 3 * H, q,
                               cuda_type<T>(), 3 * H, &zero, s, CUDA_R_32F, seq, bh, CUBLAS_COMPUTE_32F,
                               CUBLAS_GEMM_DEFAULT));
        mark();
        if (seq % 4 == 0 && !slow_glue)
          masked_softmax_vec<T><<<(unsigned)((rows + 7) / 8), 256, 0, stream>>>(S, P, d_mask, heads, seq, rows);
        else
          masked_softmax<T><<<(unsigned)((rows + 7) / 8), 256, 0, stream>>>(S, P, d_mask, heads, seq, rows);
        CK(cudaGetLastError());
        mark();
      }
      // ctx_bh = P V: column-major C[d, i] = sum_j V[j, d] P[i, j]
      if (!fused_attn)
        CB(cublasGemmBatchedEx(blas, CUBLAS_OP_N, CUBLAS_OP_N, dh, seq, seq, &one, v, cuda_type<T>(), 3 * H, p_in,
                               cuda_type<T>(), seq, &zero, cx, cuda_type<T>(), H, bh, CUBLAS_COMPUTE_32F,
                               CUBLAS_GEMM_DEFAULT));
      mark();
      linear(ctx, L.o_w, tmp, N, H, H);
      mark();
      layer_norm(x, tmp, L.o_b, L.ln1_g, L.ln1_b, x, xb, N);
      mark();
      linear(xb, L.i_w, inter, N, H, I);
      mark();
      bias(inter, L.i_b, N, I, true);
      mark();
      linear(inter, L.out_w, tmp, N, I, H);
      mark();
      layer_norm(x, tmp, L.out_b, L.ln2_g, L.ln2_b, x, xb, N);
      mark();
    }
    if (profile) {
      CK(cudaStreamSynchronize(stream));
      for (int i = 1; i < mark_at; i++) {
        float ms = 0;
        CK(cudaEventElapsedTime(&ms, pev[i - 1], pev[i]));
        prof[(i - 1) % PROFILE_STEPS] += ms;
      }
      prof_batches++;
    }
    // MLM head transform: dense + GELU + LayerNorm -> xb (the hidden states the head pools)
    linear(xb, tr_w, tmp, N, H, H);
    bias(tmp, tr_b, N, H, true);
    layer_norm(nullptr, tmp, nullptr, tr_g, tr_lb, nullptr, xb, N);
  }

  void simple_head(int texts, int seq) {
    const int H = c.hidden, V = c.vocab;
    // Logits of a chunk of texts at a time: at most ~512 MB of fp32.
    const size_t budget_rows = std::max<size_t>((512ull << 20) / ((size_t)V * 4), (size_t)seq);
    const int chunk = std::max(1, std::min(texts, (int)(budget_rows / seq)));
    const size_t need = (size_t)chunk * seq * V;
    if (need > cap_logits) {
      regrow(logits, need);
      cap_logits = need;
    }
    for (int b0 = 0; b0 < texts; b0 += chunk) {
      const int nb = std::min(chunk, texts - b0);
      const T* hid = xb + (size_t)b0 * seq * H;
      gemm(CUBLAS_OP_T, CUBLAS_OP_N, V, nb * seq, H, 1.f, dec_w, H, hid, H, logits, CUDA_R_32F, V);
      dim3 grid((V + 255) / 256, nb);
      pool_logits<<<grid, 256, 0, stream>>>(logits, d_mask + (size_t)b0 * seq, dec_b, nb, seq, V,
                                             dout + (size_t)b0 * V);
      CK(cudaGetLastError());
    }
  }

  void encode(const int32_t* ids, const uint8_t* mask, int texts, int seq, int head, float* out) override {
    if (texts <= 0 || seq <= 0) return;
    if (seq > c.max_pos) throw Failure{"seq " + std::to_string(seq) + " is above max_pos " + std::to_string(c.max_pos)};
    if (seq > 32 * SM_MAX_PER_LANE) throw Failure{"seq above 512 is not supported"};
    CK(cudaSetDevice(c.device));
    reserve(texts, seq);
    const size_t N = (size_t)texts * seq, V = c.vocab;
    std::vector<int32_t> lengths(texts);
    for (int b = 0; b < texts; b++) {
      int last = 0;
      for (int t = 0; t < seq; t++)
        if (mask[(size_t)b * seq + t]) last = t + 1;
      lengths[b] = last;
    }
    CK(cudaMemcpyAsync(d_ids, ids, N * 4, cudaMemcpyHostToDevice, stream));
    CK(cudaMemcpyAsync(d_mask, mask, N, cudaMemcpyHostToDevice, stream));
    CK(cudaMemcpyAsync(d_len, lengths.data(), texts * 4, cudaMemcpyHostToDevice, stream));
    CK(cudaEventRecord(ev[0], stream));
    run_trunk(texts, seq);
    CK(cudaEventRecord(ev[1], stream));
    FusedHeadLib& lib = fused_head_lib();
    const bool fused = head == LSR_HEAD_AUTO && !std::is_same<T, float>::value && lib.fn && c.hidden % 8 == 0;
    if (fused) {
      const int dtype = std::is_same<T, __half>::value ? LSR_CUDA_FP16 : LSR_CUDA_BF16;
      const int rc = lib.fn(xb, d_len, d_mask, dec_w, dec_b, dout, texts, seq, c.hidden, c.vocab, dtype, (void*)stream);
      if (rc != 0)
        throw Failure{std::string("lsr_cuda_sparse_head: ") + (lib.err ? lib.err() : "error ") + std::to_string(rc)};
      head_name = "fused";
    } else {
      simple_head(texts, seq);
      head_name = "simple";
    }
    CK(cudaEventRecord(ev[2], stream));
    const size_t bytes = (size_t)texts * V * 4;
    if (bytes > h_out_cap) {
      if (h_out) CK(cudaFreeHost(h_out));
      h_out = nullptr;
      CK(cudaMallocHost(&h_out, bytes));
      h_out_cap = bytes;
    }
    CK(cudaMemcpyAsync(h_out, dout, bytes, cudaMemcpyDeviceToHost, stream));
    CK(cudaEventRecord(ev[3], stream));
    CK(cudaStreamSynchronize(stream));
    CK(cudaGetLastError());
    std::memcpy(out, h_out, bytes);
    CK(cudaEventElapsedTime(&trunk_ms, ev[0], ev[1]));
    CK(cudaEventElapsedTime(&head_ms, ev[1], ev[2]));
    CK(cudaEventElapsedTime(&copy_ms, ev[2], ev[3]));
  }
};

}  // namespace

struct lsr_trunk {
  TrunkBase* impl;
};

extern "C" {

int lsr_trunk_tensor_count(int layers) { return 5 + 16 * layers + 6; }

lsr_trunk* lsr_trunk_create(const lsr_trunk_config* cfg, const float* const* tensors) {
  g_error.clear();
  try {
    if (!cfg || !tensors) throw Failure{"null config or tensors"};
    if (cfg->hidden <= 0 || cfg->hidden > LN_THREADS * LN_VPT) throw Failure{"hidden must be in 1..1024"};
    if (cfg->heads <= 0 || cfg->hidden % cfg->heads) throw Failure{"hidden must be a multiple of heads"};
    if (cfg->layers <= 0 || cfg->intermediate <= 0 || cfg->vocab <= 0 || cfg->max_pos <= 0 || cfg->type_vocab <= 0)
      throw Failure{"layers, intermediate, vocab, max_pos and type_vocab must be positive"};
    const int n = lsr_trunk_tensor_count(cfg->layers);
    for (int i = 0; i < n; i++)
      if (!tensors[i]) throw Failure{"tensor " + std::to_string(i) + " is null"};
    int count = 0;
    if (cudaGetDeviceCount(&count) != cudaSuccess || count == 0) throw Failure{"no CUDA device"};
    if (cfg->device < 0 || cfg->device >= count) throw Failure{"no CUDA device " + std::to_string(cfg->device)};
    TrunkBase* impl;
    if (cfg->precision == LSR_TRUNK_FP32) impl = new Trunk<float>(*cfg, tensors);
    else if (cfg->precision == LSR_TRUNK_FP16) impl = new Trunk<__half>(*cfg, tensors);
    else if (cfg->precision == LSR_TRUNK_BF16) impl = new Trunk<__nv_bfloat16>(*cfg, tensors);
    else throw Failure{"unknown precision " + std::to_string(cfg->precision)};
    return new lsr_trunk{impl};
  } catch (const Failure& f) {
    g_error = f.what;
  } catch (const std::exception& e) {
    g_error = e.what();
  }
  return nullptr;
}

void lsr_trunk_destroy(lsr_trunk* t) {
  if (!t) return;
  delete t->impl;
  delete t;
}

int lsr_trunk_encode(lsr_trunk* t, const int32_t* ids, const uint8_t* mask, int texts, int seq, int head,
                     float* out) {
  g_error.clear();
  if (!t || (texts > 0 && seq > 0 && (!ids || !mask || !out))) {
    g_error = "null argument";
    return 1;
  }
  std::lock_guard<std::mutex> lock(t->impl->mu);
  try {
    t->impl->encode(ids, mask, texts, seq, head, out);
    return 0;
  } catch (const Failure& f) {
    g_error = f.what;
  } catch (const std::exception& e) {
    g_error = e.what();
  }
  return 2;
}

const char* lsr_trunk_head_name(lsr_trunk* t) { return t ? t->impl->head_name.c_str() : ""; }
const char* lsr_trunk_device_name(lsr_trunk* t) { return t ? t->impl->device_name.c_str() : ""; }
const char* lsr_trunk_attention_name(lsr_trunk* t) { return t ? t->impl->attention_name.c_str() : ""; }

void lsr_trunk_last_timing(lsr_trunk* t, float* trunk_ms, float* head_ms, float* copy_ms) {
  if (!t) return;
  if (trunk_ms) *trunk_ms = t->impl->trunk_ms;
  if (head_ms) *head_ms = t->impl->head_ms;
  if (copy_ms) *copy_ms = t->impl->copy_ms;
}

const char* lsr_trunk_last_error(void) { return g_error.c_str(); }

void lsr_trunk_set_profile(lsr_trunk* t, int on) {
  if (!t) return;
  std::lock_guard<std::mutex> lock(t->impl->mu);
  t->impl->profile_on = on != 0;
  for (float& v : t->impl->prof) v = 0;
  t->impl->prof_batches = 0;
}

int lsr_trunk_profile(lsr_trunk* t, const char** names, float* ms, int n) {
  if (!t) return 0;
  const int k = n < PROFILE_STEPS ? n : PROFILE_STEPS;
  for (int i = 0; i < k; i++) {
    if (names) names[i] = PROFILE_NAMES[i];
    if (ms) ms[i] = t->impl->prof[i];
  }
  return t->impl->prof_batches;
}

}  // extern "C"
