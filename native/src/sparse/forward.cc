#include "sparse/forward.h"

#include <cstring>

#include "common/cpu.h"
#include "common/half.h"

#if defined(__x86_64__)
#include "../common/simd.h"
#endif

namespace lsr::sparse {

namespace {

template <typename T>
inline float weight_at(const T* w, uint64_t i) {
  if constexpr (sizeof(T) == 2) return f16_to_f32(w[i]);
  else return w[i];
}

template <typename TermT, typename WeightT>
float dot_scalar(const void* tv, const void* wv, uint64_t n, const float* dense) {
  const auto* t = static_cast<const TermT*>(tv);
  const auto* w = static_cast<const WeightT*>(wv);
  float s0 = 0, s1 = 0, s2 = 0, s3 = 0;
  uint64_t i = 0;
  for (; i + 4 <= n; i += 4) {
    s0 += dense[t[i]] * weight_at(w, i);
    s1 += dense[t[i + 1]] * weight_at(w, i + 1);
    s2 += dense[t[i + 2]] * weight_at(w, i + 2);
    s3 += dense[t[i + 3]] * weight_at(w, i + 3);
  }
  for (; i < n; ++i) s0 += dense[t[i]] * weight_at(w, i);
  return (s0 + s1) + (s2 + s3);
}

#if defined(__x86_64__)
// 16 entries a step: ids widened to 32 bits for the gather, halves widened by vcvtph2ps.
template <typename TermT, typename WeightT>
__attribute__((target("avx512f,avx512bw,avx512vl,avx512dq")))
float dot_avx512(const void* tv, const void* wv, uint64_t n, const float* dense) {
  const auto* t = static_cast<const TermT*>(tv);
  const auto* w = static_cast<const WeightT*>(wv);
  __m512 acc = _mm512_setzero_ps();
  for (uint64_t i = 0; i < n; i += 16) {
    const __mmask16 m = n - i >= 16 ? __mmask16(0xffff) : static_cast<__mmask16>((1u << (n - i)) - 1);
    __m512i idx;
    if constexpr (sizeof(TermT) == 2) idx = _mm512_cvtepu16_epi32(_mm256_maskz_loadu_epi16(m, t + i));
    else idx = _mm512_maskz_loadu_epi32(m, t + i);
    __m512 v;
    if constexpr (sizeof(WeightT) == 2) v = _mm512_cvtph_ps(_mm256_maskz_loadu_epi16(m, w + i));
    else v = _mm512_maskz_loadu_ps(m, w + i);
    const __m512 q = _mm512_mask_i32gather_ps(_mm512_setzero_ps(), m, idx, dense, 4);
    acc = _mm512_fmadd_ps(q, v, acc);
  }
  return _mm512_reduce_add_ps(acc);
}

template <typename TermT, typename WeightT>
__attribute__((target("avx2,fma,f16c")))
float dot_avx2(const void* tv, const void* wv, uint64_t n, const float* dense) {
  const auto* t = static_cast<const TermT*>(tv);
  const auto* w = static_cast<const WeightT*>(wv);
  __m256 acc = _mm256_setzero_ps();
  uint64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    __m256i idx;
    if constexpr (sizeof(TermT) == 2) idx = _mm256_cvtepu16_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(t + i)));
    else idx = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(t + i));
    __m256 v;
    if constexpr (sizeof(WeightT) == 2) v = _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(w + i)));
    else v = _mm256_loadu_ps(w + i);
    acc = _mm256_fmadd_ps(_mm256_i32gather_ps(dense, idx, 4), v, acc);
  }
  alignas(32) float s[8];
  _mm256_store_ps(s, acc);
  float r = ((s[0] + s[1]) + (s[2] + s[3])) + ((s[4] + s[5]) + (s[6] + s[7]));
  for (; i < n; ++i) r += dense[t[i]] * weight_at(w, i);
  return r;
}
#endif

using DotFn = float (*)(const void*, const void*, uint64_t, const float*);

template <typename TermT, typename WeightT>
DotFn pick_dot() {
#if defined(__x86_64__)
  switch (cpu::level()) {
    case cpu::Level::Avx512: return dot_avx512<TermT, WeightT>;
    case cpu::Level::Avx2: return dot_avx2<TermT, WeightT>;
    default: break;
  }
#endif
  return dot_scalar<TermT, WeightT>;
}

}  // namespace

ForwardView::ForwardView(const Segment& s)
    : off_(s.sec<uint64_t>(kFwdOffsets)),
      terms_(s.sec<uint8_t>(kFwdTerms)),
      weights_(s.sec<uint8_t>(kFwdWeights)),
      term_bytes_(s.terms16() ? 2 : 4),
      weight_bytes_(s.weights16() ? 2 : 4) {
  if (s.terms16()) dot_ = s.weights16() ? pick_dot<uint16_t, uint16_t>() : pick_dot<uint16_t, float>();
  else dot_ = s.weights16() ? pick_dot<uint32_t, uint16_t>() : pick_dot<uint32_t, float>();
}

float ForwardView::dot(uint32_t d, const float* dense) const {
  const uint64_t a = off_[d];
  return dot_(terms_ + a * term_bytes_, weights_ + a * weight_bytes_, off_[d + 1] - a, dense);
}

void ForwardView::prefetch(uint32_t d) const {
  const uint64_t a = off_[d], n = off_[d + 1] - a;
  for (uint64_t b = 0; b < n * term_bytes_; b += 64) __builtin_prefetch(terms_ + a * term_bytes_ + b);
  for (uint64_t b = 0; b < n * weight_bytes_; b += 64) __builtin_prefetch(weights_ + a * weight_bytes_ + b);
}

void ForwardView::read(uint32_t d, uint32_t* terms, float* weights) const {
  const uint64_t a = off_[d], n = off_[d + 1] - a;
  if (term_bytes_ == 2) {
    const auto* t = reinterpret_cast<const uint16_t*>(terms_) + a;
    for (uint64_t i = 0; i < n; ++i) terms[i] = t[i];
  } else {
    std::memcpy(terms, reinterpret_cast<const uint32_t*>(terms_) + a, n * 4);
  }
  if (weight_bytes_ == 2) {
    const auto* w = reinterpret_cast<const uint16_t*>(weights_) + a;
    for (uint64_t i = 0; i < n; ++i) weights[i] = f16_to_f32(w[i]);
  } else {
    std::memcpy(weights, reinterpret_cast<const float*>(weights_) + a, n * 4);
  }
}

}  // namespace lsr::sparse
