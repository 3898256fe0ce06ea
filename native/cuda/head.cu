// CUDA fused sparse LM head (issue 7; design and measurements in docs/gpu.md, ABI in sparse-head.h).
//
// out[b, v] = log1p(relu(max_{valid t} hidden[b, t] · W[v] + bias[v]))  (0 if b has no valid token)
//
// sm_90 path: a persistent, warp-specialized kernel. One work unit = (sequence b, 128 vocabulary
// rows). Warpgroup 0 (one thread) streams K-slices of the W tile [128 × 64] and of a 256-token
// hidden tile [256 × 64] into a 4-stage shared-memory ring with TMA (128-byte swizzle), completing
// on mbarriers. Warpgroups 1 and 2 each own 64 vocabulary rows and issue wgmma m64n256k16 (bf16 or
// fp16, fp32 accumulators in registers) over the whole K, then fold the 64 × 256 tile into a
// running per-row max over the valid tokens (in-thread, then across the 4 lanes sharing a row).
// After the last 256-token sub-tile of the sequence, bias + ReLU + log1p are applied once per
// [b, v] and written. Logits never leave the registers.
//
// Training (issue 22): the same kernel can also write, per [b, v], the token that won the max (the
// argmax, int16 or int32, -1 where out == 0), folded in the same pass; the backward kernels that use
// it (sparse scatter of the gradient through the winning tokens) are in head-backward.inc.
#include <cuda.h>
#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <cuda_runtime.h>

#include <cmath>
#include <cstdio>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>

#include "sparse-head.h"

namespace {

thread_local std::string g_error;

int fail_arg(const char* what) {
  g_error = std::string("bad argument: ") + what;
  return LSR_CUDA_BAD_ARGUMENT;
}
int fail_cuda(const char* what, cudaError_t e) {
  g_error = std::string(what) + ": " + cudaGetErrorName(e) + " (" + cudaGetErrorString(e) + ")";
  return LSR_CUDA_LAUNCH_FAILED;
}

constexpr int kBM = 128;  // vocabulary rows per work unit (2 consumer warpgroups × 64)
constexpr int kBN = 256;  // tokens per sub-tile (wgmma N)
constexpr int kBK = 64;   // K per stage: 64 × 2 bytes = one 128-byte swizzle row
constexpr int kStages = 4;
constexpr int kABytes = kBM * kBK * 2;  // 16 KiB
constexpr int kBBytes = kBN * kBK * 2;  // 32 KiB
constexpr int kStageBytes = kABytes + kBBytes;
constexpr int kSmemBytes = kStages * kStageBytes + 1024 /* alignment */ + 256 /* barriers */;
constexpr int kThreads = 384;
// Empty barrier: one arrival per consumer warp (2 warpgroups × 4 warps).
constexpr int kConsumerWarps = 8;

struct Params {
  const int32_t* lengths;
  const uint8_t* mask;
  const float* bias;
  float* out;
  void* argmax;  // [B, V] winning token per (text, term), -1 where out == 0; NULL: not written
  int idx16;     // argmax elements are int16 (else int32)
  int B, T, H, V;
  int KB;     // K blocks: ceil(H / 64)
  int nvt;    // vocabulary tiles: ceil(V / 128)
  int G;      // items per group (L2 reuse of hidden states across vocabulary tiles)
  int items;  // sequence mode: B sequences; packed mode: ceil(B * T / 256) row tiles
  int units;  // items * nvt
};

__device__ __forceinline__ uint32_t smem_u32(const void* p) {
  return static_cast<uint32_t>(__cvta_generic_to_shared(p));
}

__device__ __forceinline__ void mbar_init(uint64_t* bar, uint32_t count) {
  asm volatile("mbarrier.init.shared::cta.b64 [%0], %1;" ::"r"(smem_u32(bar)), "r"(count) : "memory");
}
__device__ __forceinline__ void mbar_expect_tx(uint64_t* bar, uint32_t bytes) {
  asm volatile("mbarrier.arrive.expect_tx.shared::cta.b64 _, [%0], %1;" ::"r"(smem_u32(bar)), "r"(bytes)
               : "memory");
}
__device__ __forceinline__ void mbar_arrive(uint64_t* bar) {
  asm volatile("mbarrier.arrive.shared::cta.b64 _, [%0];" ::"r"(smem_u32(bar)) : "memory");
}
__device__ __forceinline__ void mbar_wait(uint64_t* bar, uint32_t parity) {
  const uint32_t addr = smem_u32(bar);
  uint32_t done;
  do {
    asm volatile(
        "{\n.reg .pred p;\n"
        "mbarrier.try_wait.parity.shared::cta.b64 p, [%1], %2;\n"
        "selp.u32 %0, 1, 0, p;\n}\n"
        : "=r"(done)
        : "r"(addr), "r"(parity)
        : "memory");
  } while (!done);
}

__device__ __forceinline__ void tma_load_2d(void* dst, const CUtensorMap* map, uint64_t* bar, int c0, int c1) {
  asm volatile(
      "cp.async.bulk.tensor.2d.shared::cluster.global.mbarrier::complete_tx::bytes [%0], [%1, {%3, %4}], [%2];" ::"r"(
          smem_u32(dst)),
      "l"(reinterpret_cast<uint64_t>(map)), "r"(smem_u32(bar)), "r"(c0), "r"(c1)
      : "memory");
}

// Shared-memory matrix descriptor: K-major tile whose rows are 128 bytes, 128-byte swizzle,
// 8-row core-matrix groups 1024 bytes apart. Advancing K by 16 elements = +32 bytes on the start.
__device__ __forceinline__ uint64_t smem_desc(uint32_t addr) {
  uint64_t d = 0;
  d |= uint64_t((addr & 0x3FFFF) >> 4);
  d |= uint64_t(16 >> 4) << 16;    // leading byte offset (unused for swizzled K-major)
  d |= uint64_t(1024 >> 4) << 32;  // stride byte offset
  d |= uint64_t(1) << 62;          // 128-byte swizzle
  return d;
}

__device__ __forceinline__ void wgmma_fence() { asm volatile("wgmma.fence.sync.aligned;" ::: "memory"); }
__device__ __forceinline__ void wgmma_commit() { asm volatile("wgmma.commit_group.sync.aligned;" ::: "memory"); }
template <int N>
__device__ __forceinline__ void wgmma_wait() {
  asm volatile("wgmma.wait_group.sync.aligned %0;" ::"n"(N) : "memory");
}
__device__ __forceinline__ void reg_fence(float& r) { asm volatile("" : "+f"(r)::"memory"); }

#include "head-wgmma.inc"

__device__ __forceinline__ void unit_coords(const Params& p, int u, int& b, int& vt) {
  const int per_group = p.G * p.nvt;
  const int g = u / per_group;
  const int r = u - g * per_group;
  const int gsize = min(p.G, p.items - g * p.G);
  vt = r / gsize;
  b = g * p.G + (r - vt * gsize);
}

__device__ __forceinline__ int seq_len(const Params& p, int b) {
  if (!p.lengths) return p.T;
  return min(max(__ldg(p.lengths + b), 0), p.T);
}

__device__ __forceinline__ float activate(float m, float bias) {
  if (m == -INFINITY) return 0.f;
  return log1pf(fmaxf(m + bias, 0.f));
}

#ifndef LSR_HEAD_EXP
#define LSR_HEAD_EXP 0
#endif

// Packed mode: reduce one sequence's maxima over the 4 lanes sharing each row and merge them into
// out[sq] with atomicMax (out starts at +0.0; activated values are >= 0, so their bits order like
// ints). Called by every lane of the warp.
__device__ __forceinline__ void packed_flush(const Params& p, int sq, int vt, int row0, int lane, float a0, float a1,
                                             float bias0, float bias1) {
  a0 = fmaxf(a0, __shfl_xor_sync(0xffffffffu, a0, 1));
  a0 = fmaxf(a0, __shfl_xor_sync(0xffffffffu, a0, 2));
  a1 = fmaxf(a1, __shfl_xor_sync(0xffffffffu, a1, 1));
  a1 = fmaxf(a1, __shfl_xor_sync(0xffffffffu, a1, 2));
  if ((lane & 3) == 0) {
    const int v0 = vt * kBM + row0;
    int* o = reinterpret_cast<int*>(p.out + size_t(sq) * p.V);
    if (v0 < p.V && a0 != -INFINITY) {
      const float y = activate(a0, bias0);
#if LSR_HEAD_EXP == 2  // timing experiment: plain stores instead of atomics (wrong results)
      if (y > 0.f) o[v0] = __float_as_int(y);
#else
      if (y > 0.f) atomicMax(o + v0, __float_as_int(y));
#endif
    }
    if (v0 + 8 < p.V && a1 != -INFINITY) {
      const float y = activate(a1, bias1);
#if LSR_HEAD_EXP == 2
      if (y > 0.f) o[v0 + 8] = __float_as_int(y);
#else
      if (y > 0.f) atomicMax(o + v0 + 8, __float_as_int(y));
#endif
    }
  }
}

// PACKED = false (sequence mode): a unit is (sequence b, vocabulary tile); its 256-token sub-tiles
// start at row b * T, tiles past lengths[b] are skipped and the unit writes out[b, tile] directly.
// PACKED = true (packed mode, for T that is not a multiple of 256): a unit is (row tile of 256
// consecutive rows of the [B * T, H] hidden matrix, vocabulary tile), so no compute is spent on
// rounding T up to 256; the tile may hold several sequences, each folded separately and combined
// across tiles with atomicMax on the (non-negative) activated values; out is zeroed first.
// ARG = true (sequence mode only): also record the winning token of each max; ties go to the lowest
// token index (the first maximal value, as torch.max reports it), so a backward pass through the
// argmax matches PyTorch's max backward even on tied logits.
template <int DT, bool PACKED, bool ARG>  // DT: 0 = bf16, 1 = fp16
__global__ void __launch_bounds__(kThreads, 1)
    head_sm90(const __grid_constant__ CUtensorMap mapW, const __grid_constant__ CUtensorMap mapH, const Params p) {
#if defined(__CUDA_ARCH__) && (__CUDA_ARCH__ >= 900) && defined(__CUDA_ARCH_FEAT_SM90_ALL)
  extern __shared__ uint8_t smem_raw[];
  uint8_t* smem = reinterpret_cast<uint8_t*>((reinterpret_cast<uintptr_t>(smem_raw) + 1023) & ~uintptr_t(1023));
  uint8_t* sA = smem;
  uint8_t* sB = smem + kStages * kABytes;
  uint64_t* full = reinterpret_cast<uint64_t*>(smem + kStages * kStageBytes);
  uint64_t* empty = full + kStages;

  const int wg = threadIdx.x / 128;
  const int tid = threadIdx.x % 128;

  if (threadIdx.x == 0) {
    for (int s = 0; s < kStages; ++s) {
      mbar_init(&full[s], 1);
      mbar_init(&empty[s], kConsumerWarps);
    }
    asm volatile("fence.mbarrier_init.release.cluster;" ::: "memory");
    asm volatile("fence.proxy.async.shared::cta;" ::: "memory");
  }
  __syncthreads();

  if (wg == 0) {
    // Producer warpgroup: give registers to the consumers; one thread issues every copy.
    asm volatile("setmaxnreg.dec.sync.aligned.u32 40;");
    if (tid == 0) {
      asm volatile("prefetch.tensormap [%0];" ::"l"(reinterpret_cast<uint64_t>(&mapW)) : "memory");
      asm volatile("prefetch.tensormap [%0];" ::"l"(reinterpret_cast<uint64_t>(&mapH)) : "memory");
      int stage = 0;
      uint32_t phase = 0;
      for (int u = blockIdx.x; u < p.units; u += gridDim.x) {
        int b, vt;
        unit_coords(p, u, b, vt);
        const int nsub = PACKED ? 1 : (seq_len(p, b) + kBN - 1) / kBN;
        for (int sub = 0; sub < nsub; ++sub) {
          const int row = PACKED ? b * kBN : b * p.T + sub * kBN;
          for (int kb = 0; kb < p.KB; ++kb) {
            mbar_wait(&empty[stage], phase ^ 1);
            mbar_expect_tx(&full[stage], kStageBytes);
            tma_load_2d(sA + stage * kABytes, &mapW, &full[stage], kb * kBK, vt * kBM);
            tma_load_2d(sB + stage * kBBytes, &mapH, &full[stage], kb * kBK, row);
            if (++stage == kStages) {
              stage = 0;
              phase ^= 1;
            }
          }
        }
      }
    }
  } else {
    asm volatile("setmaxnreg.inc.sync.aligned.u32 232;");
    const int cw = wg - 1;  // consumer warpgroup: vocabulary rows cw*64 .. cw*64+63 of the tile
    const int warp = tid / 32, lane = tid % 32;
    const int row0 = cw * 64 + warp * 16 + lane / 4;  // this thread's rows: row0 and row0 + 8
    const int colq = (lane % 4) * 2;                  // this thread's first column within 8
    float acc[128];
#pragma unroll
    for (int i = 0; i < 128; ++i) acc[i] = 0.f;
    int stage = 0;
    uint32_t phase = 0;
    for (int u = blockIdx.x; u < p.units; u += gridDim.x) {
      int b, vt;
      unit_coords(p, u, b, vt);
      const int len = PACKED ? 0 : seq_len(p, b);
      const int nsub = PACKED ? 1 : (len + kBN - 1) / kBN;
      float m0 = -INFINITY, m1 = -INFINITY;
      int i0 = 0x7fffffff, i1 = 0x7fffffff;  // ARG: token of m0 / m1 (the sentinel loses every tie)
      // This thread's two bias values, loaded before the K loop so that their latency is hidden.
      const int vb0 = vt * kBM + row0;
      const float bias0 = (p.bias && vb0 < p.V) ? __ldg(p.bias + vb0) : 0.f;
      const float bias1 = (p.bias && vb0 + 8 < p.V) ? __ldg(p.bias + vb0 + 8) : 0.f;
      for (int sub = 0; sub < nsub; ++sub) {
        // Columns of this sub-tile that may count (sequence mode: t < len; packed: rows < B * T).
        const int valid = PACKED ? min(p.B * p.T - b * kBN, kBN) : min(len - sub * kBN, kBN);  // >= 1
        // This sub-tile's mask, coalesced (lane l: columns 8l .. 8l+7), loaded now and consumed after
        // the K loop so that its latency hides behind the matrix products. [B, T] row-major is
        // indexed by the hidden row, so both modes read mask[first row + column].
        uint32_t mb[8];
        if (p.mask) {
          const uint8_t* mrow = p.mask + (PACKED ? size_t(b) * kBN : size_t(b) * p.T + sub * kBN);
#pragma unroll
          for (int e = 0; e < 8; ++e) mb[e] = lane * 8 + e < valid ? __ldg(mrow + lane * 8 + e) : 0u;
        }
        // Packed: the valid length of the sequence that holds each of the lane's 8 columns.
        int ln[8];
        int sq8 = 0, t8 = 0;  // sequence and position of column 8 * lane
        if constexpr (PACKED) {
          const int row = b * kBN + lane * 8;
          sq8 = row / p.T;
          t8 = row - sq8 * p.T;
          int sq = sq8, t = t8;
#pragma unroll
          for (int e = 0; e < 8; ++e) {
            ln[e] = (lane * 8 + e < valid) ? seq_len(p, sq) : 0;
            if (++t == p.T) {
              t = 0;
              ++sq;
            }
          }
        }
        int prev = -1;
        for (int kb = 0; kb < p.KB; ++kb) {
          mbar_wait(&full[stage], phase);
          const uint32_t a = smem_u32(sA + stage * kABytes + cw * 64 * 128);
          const uint32_t bb = smem_u32(sB + stage * kBBytes);
          wgmma_fence();
#pragma unroll
          for (int k = 0; k < kBK / 16; ++k) {
            if (DT == 0)
              wgmma_m64n256k16_bf16(acc, smem_desc(a + k * 32), smem_desc(bb + k * 32), (kb | k) != 0);
            else
              wgmma_m64n256k16_f16(acc, smem_desc(a + k * 32), smem_desc(bb + k * 32), (kb | k) != 0);
          }
          wgmma_commit();
          wgmma_wait<1>();  // the previous K block's products are done: its stage may be refilled
          if (prev >= 0 && lane == 0) mbar_arrive(&empty[prev]);
          prev = stage;
          if (++stage == kStages) {
            stage = 0;
            phase ^= 1;
          }
        }
        wgmma_wait<0>();
#pragma unroll
        for (int i = 0; i < 128; ++i) reg_fence(acc[i]);
        if (lane == 0) mbar_arrive(&empty[prev]);

        if constexpr (PACKED) {
          // Validity of the lane's 8 columns (mask, lengths, rows < B * T), then of this thread's 64
          // columns: bit 2j + e of vb is column 8j + colq + e (columns increase with the bit index).
          uint32_t bits8 = 0;
          {
            int t = t8;
#pragma unroll
            for (int e = 0; e < 8; ++e) {
              const bool ok = t < ln[e] && (p.mask == nullptr || mb[e] != 0);
              bits8 |= uint32_t(ok) << e;
              if (++t == p.T) t = 0;
            }
          }
          uint32_t vlo = 0, vhi = 0;
#pragma unroll
          for (int j = 0; j < 16; ++j) {
            vlo |= ((__shfl_sync(0xffffffffu, bits8, j) >> colq) & 3u) << (2 * j);
            vhi |= ((__shfl_sync(0xffffffffu, bits8, j + 16) >> colq) & 3u) << (2 * j);
          }
          const int r0 = b * kBN;
          const int s_first = r0 / p.T;
          const int s_last = min(p.B - 1, (r0 + kBN - 1) / p.T);
#if LSR_HEAD_EXP == 1  // timing experiment: no per-sequence folding (wrong results)
          {
            float a0 = -INFINITY, a1 = -INFINITY;
#pragma unroll
            for (int i = 0; i < 128; i += 4) {
              a0 = fmaxf(a0, fmaxf(acc[i], acc[i + 1]));
              a1 = fmaxf(a1, fmaxf(acc[i + 2], acc[i + 3]));
            }
            packed_flush(p, s_first, vt, row0, lane, a0, a1, bias0, bias1);
          }
#else
          for (int sq = s_first; sq <= s_last; ++sq) {
            // Sequence sq's columns [lo, hi) are this thread's bits [blo, bhi): a thread owns columns
            // 8j + colq and 8j + colq + 1, so cnt(x) = 2 * (x / 8) + clamp(x % 8 - colq, 0, 2).
            const int lo = max(sq * p.T - r0, 0);
            const int hi = min(sq * p.T - r0 + p.T, kBN);
            const int blo = 2 * (lo >> 3) + min(max((lo & 7) - colq, 0), 2);
            const int bhi = 2 * (hi >> 3) + min(max((hi & 7) - colq, 0), 2);
            // Bits [blo, bhi) of the 64-bit word (vhi:vlo), as two 32-bit masks.
            const uint32_t below_hi_lo = bhi >= 32 ? 0xffffffffu : ((1u << bhi) - 1u);
            const uint32_t below_hi_hi = bhi >= 64 ? 0xffffffffu : (bhi <= 32 ? 0u : ((1u << (bhi - 32)) - 1u));
            const uint32_t below_lo_lo = blo >= 32 ? 0xffffffffu : ((1u << blo) - 1u);
            const uint32_t below_lo_hi = blo >= 64 ? 0xffffffffu : (blo <= 32 ? 0u : ((1u << (blo - 32)) - 1u));
            const uint32_t wlo = vlo & below_hi_lo & ~below_lo_lo;
            const uint32_t whi = vhi & below_hi_hi & ~below_lo_hi;
            float a0 = -INFINITY, a1 = -INFINITY;
#pragma unroll
            for (int j = 0; j < 16; ++j) {
#pragma unroll
              for (int e = 0; e < 2; ++e) {
                if (wlo & (1u << (2 * j + e))) {
                  a0 = fmaxf(a0, acc[4 * j + e]);
                  a1 = fmaxf(a1, acc[4 * j + 2 + e]);
                }
                if (whi & (1u << (2 * j + e))) {
                  a0 = fmaxf(a0, acc[4 * (j + 16) + e]);
                  a1 = fmaxf(a1, acc[4 * (j + 16) + 2 + e]);
                }
              }
            }
            packed_flush(p, sq, vt, row0, lane, a0, a1, bias0, bias1);
          }
#endif
        } else {
          // Fold the tile into the running max over valid tokens. Register i holds
          // row row0 + 8 * ((i / 2) % 2), column (i / 4) * 8 + colq + (i % 2).
          // bits8: validity of columns 8 * lane .. 8 * lane + 7.
          uint32_t bits8;
          if (p.mask) {
            bits8 = 0;
#pragma unroll
            for (int e = 0; e < 8; ++e) bits8 |= uint32_t(mb[e] != 0) << e;
          } else {
            const int n = valid - lane * 8;
            bits8 = n >= 8 ? 0xffu : (n <= 0 ? 0u : (1u << n) - 1u);
          }
          // ARG: token index of this thread's column 0 in this sub-tile. Columns are visited in
          // increasing order and only a strictly larger value replaces the running max, so the
          // first (lowest) token wins ties within the thread and across sub-tiles.
          const int tb = sub * kBN + colq;
          if (__all_sync(0xffffffffu, bits8 == 0xffu)) {
            if constexpr (ARG) {
#pragma unroll
              for (int j = 0; j < 32; ++j) {
#pragma unroll
                for (int e = 0; e < 2; ++e) {
                  if (acc[4 * j + e] > m0) {
                    m0 = acc[4 * j + e];
                    i0 = tb + 8 * j + e;
                  }
                  if (acc[4 * j + 2 + e] > m1) {
                    m1 = acc[4 * j + 2 + e];
                    i1 = tb + 8 * j + e;
                  }
                }
              }
            } else {
#pragma unroll
              for (int i = 0; i < 128; i += 4) {
                m0 = fmaxf(m0, fmaxf(acc[i], acc[i + 1]));
                m1 = fmaxf(m1, fmaxf(acc[i + 2], acc[i + 3]));
              }
            }
          } else {
#pragma unroll
            for (int j = 0; j < 32; ++j) {
              const uint32_t g = __shfl_sync(0xffffffffu, bits8, j) >> colq;  // columns 8j + colq, +1
#pragma unroll
              for (int e = 0; e < 2; ++e) {
                if (g & (1u << e)) {
                  if constexpr (ARG) {
                    if (acc[4 * j + e] > m0) {
                      m0 = acc[4 * j + e];
                      i0 = tb + 8 * j + e;
                    }
                    if (acc[4 * j + 2 + e] > m1) {
                      m1 = acc[4 * j + 2 + e];
                      i1 = tb + 8 * j + e;
                    }
                  } else {
                    m0 = fmaxf(m0, acc[4 * j + e]);
                    m1 = fmaxf(m1, acc[4 * j + 2 + e]);
                  }
                }
              }
            }
          }
        }
      }
      if constexpr (PACKED) continue;
      if constexpr (ARG) {
        // The 4 lanes of a quad hold interleaved columns: on equal maxima keep the lower token.
#pragma unroll
        for (int off = 1; off <= 2; off <<= 1) {
          const float o0 = __shfl_xor_sync(0xffffffffu, m0, off);
          const int j0 = __shfl_xor_sync(0xffffffffu, i0, off);
          const float o1 = __shfl_xor_sync(0xffffffffu, m1, off);
          const int j1 = __shfl_xor_sync(0xffffffffu, i1, off);
          if (o0 > m0 || (o0 == m0 && j0 < i0)) {
            m0 = o0;
            i0 = j0;
          }
          if (o1 > m1 || (o1 == m1 && j1 < i1)) {
            m1 = o1;
            i1 = j1;
          }
        }
      } else {
        m0 = fmaxf(m0, __shfl_xor_sync(0xffffffffu, m0, 1));
        m0 = fmaxf(m0, __shfl_xor_sync(0xffffffffu, m0, 2));
        m1 = fmaxf(m1, __shfl_xor_sync(0xffffffffu, m1, 1));
        m1 = fmaxf(m1, __shfl_xor_sync(0xffffffffu, m1, 2));
      }
      if ((lane & 3) == 0) {
        const int v0 = vt * kBM + row0;
        float* o = p.out + size_t(b) * p.V;
        const float y0 = activate(m0, bias0), y1 = activate(m1, bias1);
        if (v0 < p.V) o[v0] = y0;
        if (v0 + 8 < p.V) o[v0 + 8] = y1;
        if constexpr (ARG) {
          // -1 marks a term whose max is <= 0 (or a text with no valid token): no gradient flows.
          const int a0 = y0 > 0.f ? i0 : -1, a1 = y1 > 0.f ? i1 : -1;
          const size_t r = size_t(b) * p.V + v0;
          if (p.idx16) {
            int16_t* ix = static_cast<int16_t*>(p.argmax) + r;
            if (v0 < p.V) ix[0] = int16_t(a0);
            if (v0 + 8 < p.V) ix[8] = int16_t(a1);
          } else {
            int32_t* ix = static_cast<int32_t*>(p.argmax) + r;
            if (v0 < p.V) ix[0] = a0;
            if (v0 + 8 < p.V) ix[8] = a1;
          }
        }
      }
    }
  }
#else
  __trap();  // built without sm_90a: the host only launches this on compute capability 9.x
#endif
}

// Portable kernel (any GPU, CUDA cores, slow): one thread per (b, v); the block stages one token's
// hidden state in shared memory at a time.
template <typename E>
__device__ __forceinline__ float to_f32(E x);
template <>
__device__ __forceinline__ float to_f32<__nv_bfloat16>(__nv_bfloat16 x) {
  return __bfloat162float(x);
}
template <>
__device__ __forceinline__ float to_f32<__half>(__half x) {
  return __half2float(x);
}

template <typename E>
__global__ void head_portable(const E* hidden, const E* W, Params p) {
  extern __shared__ float hs[];
  const int b = blockIdx.y;
  const int v = blockIdx.x * blockDim.x + threadIdx.x;
  const int len = seq_len(p, b);
  float m = -INFINITY;
  for (int t = 0; t < len; ++t) {
    if (p.mask && p.mask[size_t(b) * p.T + t] == 0) continue;
    __syncthreads();
    for (int k = threadIdx.x; k < p.H; k += blockDim.x) hs[k] = to_f32(hidden[(size_t(b) * p.T + t) * p.H + k]);
    __syncthreads();
    if (v < p.V) {
      const E* w = W + size_t(v) * p.H;
      float s = 0.f;
      for (int k = 0; k < p.H; ++k) s = fmaf(hs[k], to_f32(w[k]), s);
      m = fmaxf(m, s);
    }
  }
  if (v < p.V) p.out[size_t(b) * p.V + v] = activate(m, p.bias ? p.bias[v] : 0.f);
}

// Dense [B, V] -> CSR, one warp per row, order kept with ballots.
__global__ void csr_count(const float* d, int B, int V, int32_t* cnt) {
  const int row = blockIdx.x * (blockDim.x / 32) + threadIdx.x / 32;
  const int lane = threadIdx.x % 32;
  if (row >= B) return;
  const float* r = d + size_t(row) * V;
  int c = 0;
  for (int v = lane; v < V; v += 32) c += r[v] != 0.f;
  for (int o = 16; o; o >>= 1) c += __shfl_xor_sync(0xffffffffu, c, o);
  if (lane == 0) cnt[row] = c;
}
__global__ void csr_scan(const int32_t* cnt, int B, int32_t* row_ptr) {
  if (threadIdx.x != 0 || blockIdx.x != 0) return;
  int32_t s = 0;
  for (int b = 0; b < B; ++b) {
    row_ptr[b] = s;
    s += cnt[b];
  }
  row_ptr[B] = s;
}
__global__ void csr_write(const float* d, int B, int V, const int32_t* row_ptr, int32_t* cols, float* vals,
                          int capacity) {
  const int row = blockIdx.x * (blockDim.x / 32) + threadIdx.x / 32;
  const int lane = threadIdx.x % 32;
  if (row >= B) return;
  const float* r = d + size_t(row) * V;
  int pos = row_ptr[row];
  for (int v0 = 0; v0 < V; v0 += 32) {
    const int v = v0 + lane;
    const float x = v < V ? r[v] : 0.f;
    const unsigned nz = __ballot_sync(0xffffffffu, x != 0.f);
    const int at = pos + __popc(nz & ((1u << lane) - 1u));
    if (x != 0.f && at < capacity) {
      cols[at] = v;
      vals[at] = x;
    }
    pos += __popc(nz);
  }
}

// ---- host side --------------------------------------------------------------------------------

using EncodeTiledFn = CUresult (*)(CUtensorMap*, CUtensorMapDataType, cuuint32_t, void*, const cuuint64_t*,
                                   const cuuint64_t*, const cuuint32_t*, const cuuint32_t*, CUtensorMapInterleave,
                                   CUtensorMapSwizzle, CUtensorMapL2promotion, CUtensorMapFloatOOBfill);

EncodeTiledFn encode_fn() {
  static EncodeTiledFn fn = [] {
    void* f = nullptr;
    cudaDriverEntryPointQueryResult q;
    if (cudaGetDriverEntryPointByVersion("cuTensorMapEncodeTiled", &f, 12000, cudaEnableDefault, &q) != cudaSuccess ||
        q != cudaDriverEntryPointSuccess)
      f = nullptr;
    return reinterpret_cast<EncodeTiledFn>(f);
  }();
  return fn;
}

struct DeviceInfo {
  int sms = 0, major = 0;
  bool sm90_code = false;  // the library holds sm_90a code for this device (not only the sm_80 build)
  bool attr_set[8] = {false, false, false, false, false, false, false, false};
};
DeviceInfo g_dev[64];

int make_map(CUtensorMap* m, const void* base, int dtype, int H, long long rows, int box_rows) {
  EncodeTiledFn enc = encode_fn();
  if (!enc) {
    g_error = "cuTensorMapEncodeTiled not found in the driver";
    return LSR_CUDA_LAUNCH_FAILED;
  }
  cuuint64_t dims[2] = {cuuint64_t(H), cuuint64_t(rows)};
  cuuint64_t strides[1] = {cuuint64_t(H) * 2};
  cuuint32_t box[2] = {cuuint32_t(kBK), cuuint32_t(box_rows)};
  cuuint32_t estr[2] = {1, 1};
  CUresult r = enc(m, dtype == LSR_CUDA_BF16 ? CU_TENSOR_MAP_DATA_TYPE_BFLOAT16 : CU_TENSOR_MAP_DATA_TYPE_FLOAT16, 2,
                   const_cast<void*>(base), dims, strides, box, estr, CU_TENSOR_MAP_INTERLEAVE_NONE,
                   CU_TENSOR_MAP_SWIZZLE_128B, CU_TENSOR_MAP_L2_PROMOTION_L2_256B, CU_TENSOR_MAP_FLOAT_OOB_FILL_NONE);
  if (r != CUDA_SUCCESS) {
    char buf[96];
    std::snprintf(buf, sizeof buf, "cuTensorMapEncodeTiled failed (CUresult %d)", int(r));
    g_error = buf;
    return LSR_CUDA_LAUNCH_FAILED;
  }
  return LSR_CUDA_OK;
}

int check_args(const void* hidden, const void* W, float* out, int B, int T, int H, int V, int dtype) {
  if (!hidden || !W || !out) return fail_arg("null hidden, W or out");
  if (B <= 0 || T <= 0 || H <= 0 || V <= 0) return fail_arg("B, T, H and V must be positive");
  if (dtype != LSR_CUDA_BF16 && dtype != LSR_CUDA_FP16) return fail_arg("dtype");
  if ((long long)B * T > 0x7fffffffLL || (long long)V > 0x7fffffffLL) return fail_arg("too large");
  return LSR_CUDA_OK;
}

Params make_params(const int32_t* lengths, const uint8_t* mask, const float* bias, float* out, int B, int T, int H,
                   int V, bool packed = false) {
  Params p{};
  p.lengths = lengths;
  p.mask = mask;
  p.bias = bias;
  p.out = out;
  p.argmax = nullptr;
  p.idx16 = 0;
  p.B = B;
  p.T = T;
  p.H = H;
  p.V = V;
  p.KB = (H + kBK - 1) / kBK;
  p.nvt = (V + kBM - 1) / kBM;
  // Items (sequences, or 256-row tiles when packed) per group: about 16 MB of hidden states stay in
  // L2 while the group's units sweep the vocabulary, so W is read from memory ceil(items / G)
  // times and the hidden states once.
  p.items = packed ? int(((long long)B * T + kBN - 1) / kBN) : B;
  const long long item_bytes = (packed ? (long long)kBN : (long long)T) * H * 2;
  long long g = (16ll << 20) / (item_bytes > 0 ? item_bytes : 1);
  if (g < 1) g = 1;
  if (g > p.items) g = p.items;
  p.G = int(g);
  p.units = p.items * p.nvt;
  return p;
}

int launch_portable(const void* hidden, const void* W, const Params& p, int dtype, cudaStream_t st) {
  dim3 grid((p.V + 127) / 128, p.B);
  const size_t sm = size_t(p.H) * 4;
  if (sm > 48 * 1024) return fail_arg("portable kernel: H too large");
  if (dtype == LSR_CUDA_BF16)
    head_portable<__nv_bfloat16><<<grid, 128, sm, st>>>(static_cast<const __nv_bfloat16*>(hidden),
                                                        static_cast<const __nv_bfloat16*>(W), p);
  else
    head_portable<__half><<<grid, 128, sm, st>>>(static_cast<const __half*>(hidden), static_cast<const __half*>(W), p);
  cudaError_t e = cudaGetLastError();
  return e == cudaSuccess ? LSR_CUDA_OK : fail_cuda("head_portable launch", e);
}

}  // namespace

extern "C" {

const char* lsr_cuda_last_error(void) { return g_error.c_str(); }

int lsr_cuda_sparse_head_portable(const void* hidden, const int32_t* lengths, const uint8_t* mask, const void* W,
                                  const float* bias, float* out, int B, int T, int H, int V, int dtype, void* stream) {
  g_error.clear();
  if (int r = check_args(hidden, W, out, B, T, H, V, dtype)) return r;
  return launch_portable(hidden, W, make_params(lengths, mask, bias, out, B, T, H, V), dtype,
                         static_cast<cudaStream_t>(stream));
}

}  // extern "C"

namespace {

// The fused head, with or without the argmax output (argmax != NULL: sequence mode, sm_90a only).
int launch_head(const void* hidden, const int32_t* lengths, const uint8_t* mask, const void* W, const float* bias,
                float* out, void* argmax, int argmax_bits, int B, int T, int H, int V, int dtype, void* stream) {
  g_error.clear();
  if (int r = check_args(hidden, W, out, B, T, H, V, dtype)) return r;
  if (argmax && argmax_bits != 16 && argmax_bits != 32) return fail_arg("argmax_bits must be 16 or 32");
  if (argmax && argmax_bits == 16 && T > 32767) return fail_arg("int16 argmax needs T <= 32767");
  cudaStream_t st = static_cast<cudaStream_t>(stream);
  // Sequence mode when T is a multiple of 256 or within 1/16 of one (no atomics, padded tiles of
  // short sequences skipped); packed mode otherwise. LSR_CUDA_HEAD_MODE=seq|packed forces one.
  // The argmax is folded in sequence mode only (packed mode merges texts with atomicMax on the
  // value, which cannot carry the winning token with it), so it forces sequence mode.
  const long long rounded = ((long long)T + kBN - 1) / kBN * kBN;
  bool packed = rounded * 16 > (long long)T * 17;
  if (const char* m = getenv("LSR_CUDA_HEAD_MODE")) {
    if (!strcmp(m, "seq")) packed = false;
    if (!strcmp(m, "packed")) packed = true;
  }
  if (argmax) packed = false;
  Params p = make_params(lengths, mask, bias, out, B, T, H, V, packed);
  p.argmax = argmax;
  p.idx16 = argmax_bits == 16 ? 1 : 0;

  int dev = 0;
  cudaError_t e = cudaGetDevice(&dev);
  if (e != cudaSuccess) return fail_cuda("cudaGetDevice", e);
  if (dev < 0 || dev >= 64) return fail_arg("device index");
  DeviceInfo& di = g_dev[dev];
  if (di.sms == 0) {
    if ((e = cudaDeviceGetAttribute(&di.sms, cudaDevAttrMultiProcessorCount, dev)) != cudaSuccess)
      return fail_cuda("cudaDeviceGetAttribute", e);
    if ((e = cudaDeviceGetAttribute(&di.major, cudaDevAttrComputeCapabilityMajor, dev)) != cudaSuccess)
      return fail_cuda("cudaDeviceGetAttribute", e);
    cudaFuncAttributes fa{};
    // Native sm_90a code only: a kernel JIT-compiled from the sm_80 PTX reports binaryVersion 90 but
    // ptxVersion 80, and its body is empty (wgmma/TMA need sm_90a).
    di.sm90_code = cudaFuncGetAttributes(&fa, head_sm90<0, false, false>) == cudaSuccess && fa.binaryVersion >= 90 &&
                   fa.ptxVersion >= 90;
    cudaGetLastError();  // a missing image is not an error here: the portable kernel runs instead
  }
  const bool aligned = (reinterpret_cast<uintptr_t>(hidden) % 16 == 0) && (reinterpret_cast<uintptr_t>(W) % 16 == 0);
  if (di.major != 9 || !di.sm90_code || H % 8 != 0 || !aligned) {
    if (argmax)
      return fail_arg("argmax needs the sm_90a kernel (H100/H200 build), H % 8 == 0 and 16-byte aligned pointers");
    return launch_portable(hidden, W, p, dtype, st);
  }

  CUtensorMap mapW, mapH;
  if (int r = make_map(&mapW, W, dtype, H, V, kBM)) return r;
  if (int r = make_map(&mapH, hidden, dtype, H, (long long)B * T, kBN)) return r;

  auto kern = argmax ? (dtype == LSR_CUDA_BF16 ? head_sm90<0, false, true> : head_sm90<1, false, true>)
                     : dtype == LSR_CUDA_BF16 ? (packed ? head_sm90<0, true, false> : head_sm90<0, false, false>)
                                              : (packed ? head_sm90<1, true, false> : head_sm90<1, false, false>);
  const int variant = (argmax ? 4 : 0) + dtype * 2 + (packed ? 1 : 0);
  if (!di.attr_set[variant]) {
    if ((e = cudaFuncSetAttribute(kern, cudaFuncAttributeMaxDynamicSharedMemorySize, kSmemBytes)) != cudaSuccess)
      return fail_cuda("cudaFuncSetAttribute", e);
    di.attr_set[variant] = true;
  }
  if (packed && (e = cudaMemsetAsync(out, 0, size_t(B) * V * 4, st)) != cudaSuccess)
    return fail_cuda("cudaMemsetAsync", e);
  const int grid = p.units < di.sms ? p.units : di.sms;
  kern<<<grid, kThreads, kSmemBytes, st>>>(mapW, mapH, p);
  e = cudaGetLastError();
  return e == cudaSuccess ? LSR_CUDA_OK : fail_cuda("head_sm90 launch", e);
}

}  // namespace

extern "C" {

int lsr_cuda_sparse_head(const void* hidden, const int32_t* lengths, const uint8_t* mask, const void* W,
                         const float* bias, float* out, int B, int T, int H, int V, int dtype, void* stream) {
  return launch_head(hidden, lengths, mask, W, bias, out, nullptr, 0, B, T, H, V, dtype, stream);
}

int lsr_cuda_sparse_head_argmax(const void* hidden, const int32_t* lengths, const uint8_t* mask, const void* W,
                                const float* bias, float* out, void* argmax, int argmax_bits, int B, int T, int H,
                                int V, int dtype, void* stream) {
  if (!argmax) {
    g_error = "bad argument: null argmax";
    return LSR_CUDA_BAD_ARGUMENT;
  }
  return launch_head(hidden, lengths, mask, W, bias, out, argmax, argmax_bits, B, T, H, V, dtype, stream);
}

int lsr_cuda_dense_to_csr(const float* dense, int B, int V, int32_t* row_ptr, int32_t* cols, float* vals, int capacity,
                          int32_t* scratch, void* stream) {
  g_error.clear();
  if (!dense || !row_ptr || !scratch || B <= 0 || V <= 0 || capacity < 0) return fail_arg("dense_to_csr");
  if (capacity > 0 && (!cols || !vals)) return fail_arg("dense_to_csr: cols/vals");
  cudaStream_t st = static_cast<cudaStream_t>(stream);
  const int blocks = (B + 7) / 8;
  csr_count<<<blocks, 256, 0, st>>>(dense, B, V, scratch);
  csr_scan<<<1, 32, 0, st>>>(scratch, B, row_ptr);
  csr_write<<<blocks, 256, 0, st>>>(dense, B, V, row_ptr, cols, vals, capacity);
  cudaError_t e = cudaGetLastError();
  return e == cudaSuccess ? LSR_CUDA_OK : fail_cuda("dense_to_csr launch", e);
}

}  // extern "C"

// Backward of the fused head (issue 22): kernels and lsr_cuda_sparse_head_backward.
#include "head-backward.inc"
