#include "head/fused-head.h"
#include "head/panel-kernels.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <limits>

#include "common/cpu.h"
#include "common/parallel.h"

#if defined(__x86_64__)
#include "../common/simd.h"
#endif

namespace lsr::head {

namespace {

// Row-tiled kernels (AVX2, scalar, and AVX-512 with LSR_HEAD_F32=rows): vocabulary rows per tile,
// 32 rows × 768 dims × 4 bytes = 96 KiB of weights stay in L2 while every token of every text
// streams past them; each (token, row) dot product ends in a horizontal sum.
constexpr uint32_t kVocabTile = 32;

inline float bf16_to_f32(uint16_t x) {
  uint32_t u = uint32_t(x) << 16;
  float f;
  std::memcpy(&f, &u, 4);
  return f;
}

// Unpacks `rows` weight rows to f32 (bf16 rows are widened once per tile, not per token).
void load_rows(const HeadInput& in, uint32_t v0, uint32_t rows, float* dst) {
  const size_t d = in.dim;
  if (!in.weights_bf16) {
    std::memcpy(dst, static_cast<const float*>(in.weights) + size_t(v0) * d, size_t(rows) * d * 4);
    return;
  }
  const uint16_t* w = static_cast<const uint16_t*>(in.weights) + size_t(v0) * d;
  for (size_t i = 0; i < size_t(rows) * d; ++i) dst[i] = bf16_to_f32(w[i]);
}

// Max over the text's unmasked tokens of the dot products with each of `rows` weight rows.
void tile_scalar(const float* h, const uint8_t* mask, uint32_t seq, uint32_t d, const float* w,
                 uint32_t rows, float* mx) {
  for (uint32_t r = 0; r < rows; ++r) mx[r] = kNegInf;
  for (uint32_t t = 0; t < seq; ++t) {
    if (!mask[t]) continue;
    const float* ht = h + size_t(t) * d;
    for (uint32_t r = 0; r < rows; ++r) {
      const float* wr = w + size_t(r) * d;
      float s = 0.f;
      for (uint32_t k = 0; k < d; ++k) s += ht[k] * wr[k];
      mx[r] = std::max(mx[r], s);
    }
  }
}

#if defined(__x86_64__)
// 4 tokens × 4 vocabulary rows per step: 16 accumulators, 8 loads per 16 FMAs. (A function, not a
// lambda: lambdas do not inherit the enclosing function's target attribute.)
__attribute__((target("avx512f,avx512bw,avx512vl,avx512dq")))
void tokens_avx512(const float* h, const uint32_t* tok, uint32_t count, uint32_t d, const float* w,
                   uint32_t rows, float* mx) {
  uint32_t r = 0;
  for (; r + 4 <= rows; r += 4) {
    __m512 acc[4][4];
    for (auto& a : acc)
      for (auto& x : a) x = _mm512_setzero_ps();
    const float* w0 = w + size_t(r) * d;
    const float* hp[4];
    for (uint32_t i = 0; i < 4; ++i) hp[i] = h + size_t(tok[i < count ? i : 0]) * d;
    uint32_t k = 0;
    for (; k + 16 <= d; k += 16) {
      __m512 wv[4];
      for (int j = 0; j < 4; ++j) wv[j] = _mm512_loadu_ps(w0 + size_t(j) * d + k);
      for (int i = 0; i < 4; ++i) {
        __m512 hv = _mm512_loadu_ps(hp[i] + k);
        for (int j = 0; j < 4; ++j) acc[i][j] = _mm512_fmadd_ps(hv, wv[j], acc[i][j]);
      }
    }
    if (k < d) {
      __mmask16 m = static_cast<__mmask16>((1u << (d - k)) - 1);
      __m512 wv[4];
      for (int j = 0; j < 4; ++j) wv[j] = _mm512_maskz_loadu_ps(m, w0 + size_t(j) * d + k);
      for (int i = 0; i < 4; ++i) {
        __m512 hv = _mm512_maskz_loadu_ps(m, hp[i] + k);
        for (int j = 0; j < 4; ++j) acc[i][j] = _mm512_fmadd_ps(hv, wv[j], acc[i][j]);
      }
    }
    for (uint32_t i = 0; i < count; ++i)
      for (int j = 0; j < 4; ++j) mx[r + j] = std::max(mx[r + j], _mm512_reduce_add_ps(acc[i][j]));
  }
  for (; r < rows; ++r) {
    const float* wr = w + size_t(r) * d;
    for (uint32_t i = 0; i < count; ++i) {
      const float* ht = h + size_t(tok[i]) * d;
      __m512 a = _mm512_setzero_ps();
      uint32_t k = 0;
      for (; k + 16 <= d; k += 16) a = _mm512_fmadd_ps(_mm512_loadu_ps(ht + k), _mm512_loadu_ps(wr + k), a);
      float s = _mm512_reduce_add_ps(a);
      for (; k < d; ++k) s += ht[k] * wr[k];
      mx[r] = std::max(mx[r], s);
    }
  }
}

__attribute__((target("avx512f,avx512bw,avx512vl,avx512dq")))
void tile_avx512(const float* h, const uint8_t* mask, uint32_t seq, uint32_t d, const float* w,
                 uint32_t rows, float* mx) {
  for (uint32_t r = 0; r < rows; ++r) mx[r] = kNegInf;
  uint32_t tok[4];
  uint32_t nt = 0;
  for (uint32_t t = 0; t < seq; ++t) {
    if (!mask[t]) continue;
    tok[nt++] = t;
    if (nt == 4) {
      tokens_avx512(h, tok, 4, d, w, rows, mx);
      nt = 0;
    }
  }
  if (nt) tokens_avx512(h, tok, nt, d, w, rows, mx);
}

__attribute__((target("avx2,fma")))
void tile_avx2(const float* h, const uint8_t* mask, uint32_t seq, uint32_t d, const float* w,
               uint32_t rows, float* mx) {
  for (uint32_t r = 0; r < rows; ++r) mx[r] = kNegInf;
  for (uint32_t t = 0; t < seq; ++t) {
    if (!mask[t]) continue;
    const float* ht = h + size_t(t) * d;
    uint32_t r = 0;
    for (; r + 4 <= rows; r += 4) {
      __m256 a[4] = {_mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps()};
      uint32_t k = 0;
      for (; k + 8 <= d; k += 8) {
        __m256 hv = _mm256_loadu_ps(ht + k);
        for (int j = 0; j < 4; ++j) a[j] = _mm256_fmadd_ps(hv, _mm256_loadu_ps(w + size_t(r + j) * d + k), a[j]);
      }
      for (int j = 0; j < 4; ++j) {
        alignas(32) float tmp[8];
        _mm256_store_ps(tmp, a[j]);
        float s = ((tmp[0] + tmp[1]) + (tmp[2] + tmp[3])) + ((tmp[4] + tmp[5]) + (tmp[6] + tmp[7]));
        for (uint32_t kk = k; kk < d; ++kk) s += ht[kk] * w[size_t(r + j) * d + kk];
        mx[r + j] = std::max(mx[r + j], s);
      }
    }
    for (; r < rows; ++r) {
      float s = 0.f;
      for (uint32_t k = 0; k < d; ++k) s += ht[k] * w[size_t(r) * d + k];
      mx[r] = std::max(mx[r], s);
    }
  }
}
#endif

using TileFn = void (*)(const float*, const uint8_t*, uint32_t, uint32_t, const float*, uint32_t, float*);

TileFn pick_tile() {
#if defined(__x86_64__)
  switch (cpu::level()) {
    case cpu::Level::Avx512: return tile_avx512;
    case cpu::Level::Avx2: return tile_avx2;
    default: break;
  }
#endif
  return tile_scalar;
}

// Round to nearest even, as the bf16 conversion instructions and toBf16 in fused-head.ts do.
inline uint16_t f32_to_bf16(float f) {
  uint32_t u;
  std::memcpy(&u, &f, 4);
  if ((u & 0x7fffffffu) > 0x7f800000u) return static_cast<uint16_t>((u >> 16) | 0x40);  // NaN stays NaN
  return static_cast<uint16_t>((u + 0x7fffu + ((u >> 16) & 1u)) >> 16);
}

// Each text's unmasked tokens as row numbers of the [texts × seq] hidden states.
std::vector<std::vector<uint32_t>> token_lists(const HeadInput& in) {
  std::vector<std::vector<uint32_t>> toks(in.texts);
  for (uint32_t x = 0; x < in.texts; ++x)
    for (uint32_t t = 0; t < in.seq; ++t)
      if (in.mask[size_t(x) * in.seq + t]) toks[x].push_back(x * in.seq + t);
  return toks;
}

// ---- Packed-panel kernels (AVX-512): 64 vocabulary rows per panel, laid out so that one 512-bit
// register holds 16 rows; a token's hidden value (f32) or pair of values (bf16) is broadcast and
// multiplied into 4 such registers, for 6 tokens at a time (24 accumulators). The max over tokens
// is then a vertical max: no horizontal sums, and no per-token reduction.

#if defined(__x86_64__)
// bf16 × bf16 → f32: wp is [pairs][64] of uint32 (row r's elements 2k and 2k+1, low half first), hp
// the tokens' bf16 rows read as uint32 pairs. vdpbf16ps adds both products of a pair into a lane.
__attribute__((target("avx512f,avx512bw,avx512vl,avx512dq,avx512bf16")))
void panel_bf16_dp(const uint32_t* hb, size_t stride, const uint32_t* tok, uint32_t count, uint32_t pairs,
                   const uint32_t* wp, float* mx) {
  const uint32_t* hp[kTok];
  for (uint32_t i = 0; i < kTok; ++i) hp[i] = hb + size_t(tok[i < count ? i : count - 1]) * stride;
  // One sequence of f32 sums per lane (no blocking as in panel_f32: the operands' bf16 rounding,
  // ~1e-3 relative, dwarfs the summation's ~1e-6, and the folds cost ~5% here).
  __m512 acc[kTok][4];
  for (auto& a : acc)
    for (auto& x : a) x = _mm512_setzero_ps();
  for (uint32_t k = 0; k < pairs; ++k) {
    const uint32_t* w = wp + size_t(k) * kPanel;
    __m512bh wv[4];
    for (int j = 0; j < 4; ++j) wv[j] = (__m512bh)_mm512_loadu_si512(w + 16 * j);
    for (uint32_t i = 0; i < kTok; ++i) {
      const __m512bh h = (__m512bh)_mm512_set1_epi32(static_cast<int>(hp[i][k]));
      for (int j = 0; j < 4; ++j) acc[i][j] = _mm512_dpbf16_ps(acc[i][j], h, wv[j]);
    }
  }
  for (int j = 0; j < 4; ++j) {
    __m512 m = _mm512_loadu_ps(mx + 16 * j);
    for (uint32_t i = 0; i < count; ++i) m = _mm512_max_ps(m, acc[i][j]);
    _mm512_storeu_ps(mx + 16 * j, m);
  }
}

#endif

}  // namespace

#if defined(__x86_64__)
// f32: wp is [dim][64] floats; hp the tokens' f32 rows.
__attribute__((target("avx512f,avx512bw,avx512vl,avx512dq")))
void panel_f32(const float* h, size_t stride, const uint32_t* tok, uint32_t count, uint32_t dim, const float* wp,
               float* mx) {
  const float* hp[kTok];
  for (uint32_t i = 0; i < kTok; ++i) hp[i] = h + size_t(tok[i < count ? i : count - 1]) * stride;
  // Blocked summation: each lane sums one dot product in sequence, so the registers are folded into
  // `tot` every kBlock dimensions (sums of ~kBlock terms, then of dim / kBlock partial sums, instead
  // of dim terms in one sequence: less f32 rounding error at dim 768, for a few % of time).
  __m512 tot[kTok][4], acc[kTok][4];
  for (auto& a : tot)
    for (auto& x : a) x = _mm512_setzero_ps();
  for (uint32_t k0 = 0; k0 < dim; k0 += kBlock) {
    const uint32_t k1 = std::min(dim, k0 + kBlock);
    for (auto& a : acc)
      for (auto& x : a) x = _mm512_setzero_ps();
    for (uint32_t k = k0; k < k1; ++k) {
      const float* w = wp + size_t(k) * kPanel;
      __m512 wv[4];
      for (int j = 0; j < 4; ++j) wv[j] = _mm512_loadu_ps(w + 16 * j);
      for (uint32_t i = 0; i < kTok; ++i) {
        const __m512 hv = _mm512_set1_ps(hp[i][k]);
        for (int j = 0; j < 4; ++j) acc[i][j] = _mm512_fmadd_ps(hv, wv[j], acc[i][j]);
      }
    }
    for (uint32_t i = 0; i < kTok; ++i)
      for (int j = 0; j < 4; ++j) tot[i][j] = _mm512_add_ps(tot[i][j], acc[i][j]);
  }
  for (int j = 0; j < 4; ++j) {
    __m512 m = _mm512_loadu_ps(mx + 16 * j);
    for (uint32_t i = 0; i < count; ++i) m = _mm512_max_ps(m, tot[i][j]);
    _mm512_storeu_ps(mx + 16 * j, m);
  }
}
#endif

namespace {

// Which kernel fused_head runs: f32 weights → the packed f32 panel kernel on AVX-512 (LSR_HEAD_F32=rows
// keeps the earlier row-tiled one), the row-tiled AVX2/scalar kernels below that; bf16 weights →
// vdpbf16ps where the CPU has AVX512_BF16, else both operands widened from bf16 to f32 (the same
// products: a product of two bf16 values is exact in f32) through the f32 kernels.
enum class Kernel { Rows, PanelF32, PanelBf16 };

Kernel pick_kernel(bool bf16) {
#if defined(__x86_64__)
  if (bf16 && cpu::avx512_bf16()) return Kernel::PanelBf16;
  if (cpu::level() == cpu::Level::Avx512) {
    const char* e = std::getenv("LSR_HEAD_F32");
    if (!(e && !std::strcmp(e, "rows"))) return Kernel::PanelF32;
  }
#endif
  return Kernel::Rows;
}

void fused_rows(const HeadInput& in, const float* hidden, float* out) {
  const TileFn tile = pick_tile();
  const uint32_t tiles = (in.vocab + kVocabTile - 1) / kVocabTile;
  parallel_chunks(tiles, in.threads, 8, [&](uint32_t, uint64_t b, uint64_t e) {
    std::vector<float> w(size_t(kVocabTile) * in.dim);
    float mx[kVocabTile];
    for (uint64_t tt = b; tt < e; ++tt) {
      const uint32_t v0 = static_cast<uint32_t>(tt) * kVocabTile;
      const uint32_t rows = std::min(kVocabTile, in.vocab - v0);
      load_rows(in, v0, rows, w.data());
      for (uint32_t x = 0; x < in.texts; ++x) {
        tile(hidden + size_t(x) * in.seq * in.dim, in.mask + size_t(x) * in.seq, in.seq, in.dim, w.data(), rows, mx);
        float* o = out + size_t(x) * in.vocab + v0;
        for (uint32_t r = 0; r < rows; ++r) o[r] = activate(mx[r], in.bias ? in.bias[v0 + r] : 0.f);
      }
    }
  });
}

#if defined(__x86_64__)
// The panel loop shared by both packed kernels: panels of 64 rows pulled by the threads, each packed
// once and then run against every text's tokens, 6 at a time.
template <typename Pack, typename Run>
void fused_panels(const HeadInput& in, const std::vector<std::vector<uint32_t>>& toks, size_t panel_words, Pack&& pack,
                  Run&& run, float* out) {
  const uint32_t panels = (in.vocab + kPanel - 1) / kPanel;
  parallel_chunks(panels, in.threads, 1, [&](uint32_t, uint64_t b, uint64_t e) {
    std::vector<uint32_t> wp(panel_words);
    alignas(64) float mx[kPanel];
    for (uint64_t p = b; p < e; ++p) {
      const uint32_t v0 = static_cast<uint32_t>(p) * kPanel;
      const uint32_t rows = std::min(kPanel, in.vocab - v0);
      pack(v0, rows, wp.data());
      for (uint32_t x = 0; x < in.texts; ++x) {
        const auto& tl = toks[x];
        for (float& m : mx) m = kNegInf;
        for (size_t i = 0; i < tl.size(); i += kTok)
          run(tl.data() + i, static_cast<uint32_t>(std::min<size_t>(kTok, tl.size() - i)), wp.data(), mx);
        float* o = out + size_t(x) * in.vocab + v0;
        for (uint32_t r = 0; r < rows; ++r) o[r] = activate(mx[r], in.bias ? in.bias[v0 + r] : 0.f);
      }
    }
  });
}
#endif

}  // namespace

const char* head_kernel_name(bool weights_bf16) {
  switch (pick_kernel(weights_bf16)) {
    case Kernel::PanelBf16: return "avx512bf16-panel";
    case Kernel::PanelF32: return weights_bf16 ? "avx512-panel (bf16 widened)" : "avx512-panel";
    default: break;
  }
  const char* l = cpu::level_name(cpu::level());
  static thread_local char buf[64];
  std::snprintf(buf, sizeof buf, "%s-rows%s", l, weights_bf16 ? " (bf16 widened)" : "");
  return buf;
}

void fused_head(const HeadInput& in, float* out) {
  const Kernel kernel = pick_kernel(in.weights_bf16);
  const size_t d = in.dim;
  // bf16 weights: the hidden states are rounded to bf16 once per call, whatever the kernel, so every
  // path multiplies the same pairs of bf16 values.
  std::vector<float> hidden_r;
  const float* hidden = in.hidden;
  if (in.weights_bf16 && kernel != Kernel::PanelBf16) {
    hidden_r.resize(size_t(in.texts) * in.seq * d);
    for (size_t i = 0; i < hidden_r.size(); ++i) hidden_r[i] = bf16_to_f32(f32_to_bf16(in.hidden[i]));
    hidden = hidden_r.data();
  }
  if (kernel == Kernel::Rows) return fused_rows(in, hidden, out);
#if defined(__x86_64__)
  const auto toks = token_lists(in);
  if (kernel == Kernel::PanelF32) {
    fused_panels(in, toks, size_t(kPanel) * d,
      [&](uint32_t v0, uint32_t rows, uint32_t* wp32) {
        float* wp = reinterpret_cast<float*>(wp32);
        std::vector<float> rowbuf(d);
        for (uint32_t r = 0; r < kPanel; ++r) {
          if (r < rows) load_rows(in, v0 + r, 1, rowbuf.data());  // widens bf16 rows
          else std::fill(rowbuf.begin(), rowbuf.end(), 0.f);
          for (size_t k = 0; k < d; ++k) wp[k * kPanel + r] = rowbuf[k];
        }
      },
      [&](const uint32_t* tok, uint32_t count, const uint32_t* wp32, float* mx) {
        panel_f32(hidden, d, tok, count, in.dim, reinterpret_cast<const float*>(wp32), mx);
      }, out);
    return;
  }
  // PanelBf16: hidden states to bf16 rows of an even length (a zero pads an odd dim), as pairs.
  const size_t pairs = (d + 1) / 2;
  std::vector<uint32_t> hb(size_t(in.texts) * in.seq * pairs, 0);
  {
    uint16_t* h16 = reinterpret_cast<uint16_t*>(hb.data());
    for (size_t row = 0; row < size_t(in.texts) * in.seq; ++row)
      for (size_t k = 0; k < d; ++k) h16[row * 2 * pairs + k] = f32_to_bf16(in.hidden[row * d + k]);
  }
  const uint16_t* w16 = static_cast<const uint16_t*>(in.weights);
  fused_panels(in, toks, size_t(kPanel) * pairs,
    [&](uint32_t v0, uint32_t rows, uint32_t* wp) {
      for (uint32_t r = 0; r < kPanel; ++r) {
        const uint16_t* wr = w16 + size_t(v0 + r) * d;
        for (size_t k = 0; k < pairs; ++k) {
          uint32_t lo = 0, hi = 0;
          if (r < rows) {
            lo = wr[2 * k];
            hi = 2 * k + 1 < d ? wr[2 * k + 1] : 0;
          }
          wp[k * kPanel + r] = lo | (hi << 16);
        }
      }
    },
    [&](const uint32_t* tok, uint32_t count, const uint32_t* wp, float* mx) {
      panel_bf16_dp(hb.data(), pairs, tok, count, static_cast<uint32_t>(pairs), wp, mx);
    }, out);
#endif
}

void unfused_head(const HeadInput& in, float* out) {
  const size_t d = in.dim;
  std::vector<float> w(size_t(in.vocab) * d);
  load_rows(in, 0, in.vocab, w.data());
  std::vector<float> hidden_r;  // bf16 weights: the hidden states rounded as fused_head rounds them
  if (in.weights_bf16) {
    hidden_r.resize(size_t(in.texts) * in.seq * d);
    for (size_t i = 0; i < hidden_r.size(); ++i) hidden_r[i] = bf16_to_f32(f32_to_bf16(in.hidden[i]));
  }
  const float* hidden = in.weights_bf16 ? hidden_r.data() : in.hidden;
  std::vector<float> logits(size_t(in.seq) * in.vocab);  // the buffer fusion avoids
  for (uint32_t x = 0; x < in.texts; ++x) {
    const float* h = hidden + size_t(x) * in.seq * d;
    const uint8_t* mask = in.mask + size_t(x) * in.seq;
    parallel_chunks(in.seq, in.threads, 1, [&](uint32_t, uint64_t b, uint64_t e) {
      for (uint64_t t = b; t < e; ++t) {
        if (!mask[t]) continue;
        for (uint32_t v = 0; v < in.vocab; ++v) {
          float s = 0.f;
          for (size_t k = 0; k < d; ++k) s += h[t * d + k] * w[size_t(v) * d + k];
          logits[t * in.vocab + v] = s;
        }
      }
    });
    float* o = out + size_t(x) * in.vocab;
    for (uint32_t v = 0; v < in.vocab; ++v) {
      float m = kNegInf;
      for (uint32_t t = 0; t < in.seq; ++t)
        if (mask[t]) m = std::max(m, logits[size_t(t) * in.vocab + v]);
      o[v] = activate(m, in.bias ? in.bias[v] : 0.f);
    }
  }
}

}  // namespace lsr::head
