#include "head/fused-head.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>

#include "common/cpu.h"
#include "common/parallel.h"

#if defined(__x86_64__)
#include <immintrin.h>
#endif

namespace lsr::head {

namespace {

// Vocabulary rows per tile: 32 rows × 768 dims × 4 bytes = 96 KiB of weights stay in L2 while every
// token of every text streams past them.
constexpr uint32_t kVocabTile = 32;
constexpr float kNegInf = -std::numeric_limits<float>::infinity();

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

inline float activate(float max_logit, float bias) {
  // A text with no unmasked token has no evidence for any term.
  if (max_logit == kNegInf) return 0.f;
  return std::log1p(std::max(0.f, max_logit + bias));
}

}  // namespace

void fused_head(const HeadInput& in, float* out) {
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
        tile(in.hidden + size_t(x) * in.seq * in.dim, in.mask + size_t(x) * in.seq, in.seq, in.dim, w.data(), rows, mx);
        float* o = out + size_t(x) * in.vocab + v0;
        for (uint32_t r = 0; r < rows; ++r) o[r] = activate(mx[r], in.bias ? in.bias[v0 + r] : 0.f);
      }
    }
  });
}

void unfused_head(const HeadInput& in, float* out) {
  const size_t d = in.dim;
  std::vector<float> w(size_t(in.vocab) * d);
  load_rows(in, 0, in.vocab, w.data());
  std::vector<float> logits(size_t(in.seq) * in.vocab);  // the buffer fusion avoids
  for (uint32_t x = 0; x < in.texts; ++x) {
    const float* h = in.hidden + size_t(x) * in.seq * d;
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
