#include "dense/kernels.h"

// The kernels' contract is "multiply, then add": a contracted (fused) multiply-add rounds once
// instead of twice and would make the paths disagree in the last bit.
#if defined(__clang__)
#pragma clang fp contract(off)
#elif defined(__GNUC__)
#pragma GCC optimize("fp-contract=off")
#endif

#include "common/cpu.h"

#if defined(__GNUC__) && !defined(__clang__)
// GCC 12's own AVX-512 conversion intrinsics start from _mm512_undefined_*() and trip these
// warnings when inlined; the values are fully overwritten.
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif

#if defined(__x86_64__)
#include "../common/simd.h"
#endif

namespace lsr::dense {

namespace {

// The reduction tree shared by every path (see kernels.h).
inline float reduce16(const float* a) {
  float r8[8], r4[4];
  for (int l = 0; l < 8; ++l) r8[l] = a[l] + a[l + 8];
  for (int l = 0; l < 4; ++l) r4[l] = r8[l] + r8[l + 4];
  const float r0 = r4[0] + r4[2], r1 = r4[1] + r4[3];
  return r0 + r1;
}

float dot_f32_scalar(const float* q, const float* x, uint32_t stride) {
  float acc[16] = {};
  for (uint32_t i = 0; i < stride; i += 16)
    for (int l = 0; l < 16; ++l) acc[l] = acc[l] + q[i + l] * x[i + l];
  return reduce16(acc);
}

float dot_i8_scalar(const float* q, const int8_t* x, uint32_t stride) {
  float acc[16] = {};
  for (uint32_t i = 0; i < stride; i += 16)
    for (int l = 0; l < 16; ++l) acc[l] = acc[l] + q[i + l] * static_cast<float>(x[i + l]);
  return reduce16(acc);
}

void dot4_f32_scalar(const float* q, const float* const* x, uint32_t stride, float* out) {
  for (int j = 0; j < 4; ++j) out[j] = dot_f32_scalar(q, x[j], stride);
}

void dot4_i8_scalar(const float* q, const int8_t* const* x, uint32_t stride, float* out) {
  for (int j = 0; j < 4; ++j) out[j] = dot_i8_scalar(q, x[j], stride);
}

#if defined(__x86_64__)
// Same tree as reduce16: halves (l, l+8), then (l, l+4), then (l, l+2), then (0, 1).
__attribute__((target("avx2,fma"))) inline float reduce_256(__m256 lo, __m256 hi) {
  __m256 r8 = _mm256_add_ps(lo, hi);
  __m128 r4 = _mm_add_ps(_mm256_castps256_ps128(r8), _mm256_extractf128_ps(r8, 1));
  __m128 r2 = _mm_add_ps(r4, _mm_movehl_ps(r4, r4));
  return _mm_cvtss_f32(_mm_add_ss(r2, _mm_shuffle_ps(r2, r2, 1)));
}

__attribute__((target("avx2,fma"))) float dot_f32_avx2(const float* q, const float* x, uint32_t stride) {
  __m256 lo = _mm256_setzero_ps(), hi = _mm256_setzero_ps();
  for (uint32_t i = 0; i < stride; i += 16) {
    lo = _mm256_add_ps(lo, _mm256_mul_ps(_mm256_loadu_ps(q + i), _mm256_loadu_ps(x + i)));
    hi = _mm256_add_ps(hi, _mm256_mul_ps(_mm256_loadu_ps(q + i + 8), _mm256_loadu_ps(x + i + 8)));
  }
  return reduce_256(lo, hi);
}

__attribute__((target("avx2,fma"))) float dot_i8_avx2(const float* q, const int8_t* x, uint32_t stride) {
  __m256 lo = _mm256_setzero_ps(), hi = _mm256_setzero_ps();
  for (uint32_t i = 0; i < stride; i += 16) {
    __m128i b = _mm_loadu_si128(reinterpret_cast<const __m128i*>(x + i));
    __m256 xl = _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(b));
    __m256 xh = _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(_mm_srli_si128(b, 8)));
    lo = _mm256_add_ps(lo, _mm256_mul_ps(_mm256_loadu_ps(q + i), xl));
    hi = _mm256_add_ps(hi, _mm256_mul_ps(_mm256_loadu_ps(q + i + 8), xh));
  }
  return reduce_256(lo, hi);
}

__attribute__((target("avx512f,avx512bw,avx512vl,avx512dq"))) inline float reduce_512(__m512 a) {
  __m256 lo = _mm512_castps512_ps256(a), hi = _mm512_extractf32x8_ps(a, 1);
  __m256 r8 = _mm256_add_ps(lo, hi);
  __m128 r4 = _mm_add_ps(_mm256_castps256_ps128(r8), _mm256_extractf128_ps(r8, 1));
  __m128 r2 = _mm_add_ps(r4, _mm_movehl_ps(r4, r4));
  return _mm_cvtss_f32(_mm_add_ss(r2, _mm_shuffle_ps(r2, r2, 1)));
}

__attribute__((target("avx512f,avx512bw,avx512vl,avx512dq")))
float dot_f32_avx512(const float* q, const float* x, uint32_t stride) {
  __m512 acc = _mm512_setzero_ps();
  for (uint32_t i = 0; i < stride; i += 16)
    acc = _mm512_add_ps(acc, _mm512_mul_ps(_mm512_loadu_ps(q + i), _mm512_loadu_ps(x + i)));
  return reduce_512(acc);
}

__attribute__((target("avx512f,avx512bw,avx512vl,avx512dq")))
float dot_i8_avx512(const float* q, const int8_t* x, uint32_t stride) {
  __m512 acc = _mm512_setzero_ps();
  for (uint32_t i = 0; i < stride; i += 16) {
    __m512 v = _mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(x + i))));
    acc = _mm512_add_ps(acc, _mm512_mul_ps(_mm512_loadu_ps(q + i), v));
  }
  return reduce_512(acc);
}
__attribute__((target("avx2,fma")))
void dot4_f32_avx2(const float* q, const float* const* x, uint32_t stride, float* out) {
  __m256 lo[4], hi[4];
  for (int j = 0; j < 4; ++j) lo[j] = hi[j] = _mm256_setzero_ps();
  for (uint32_t i = 0; i < stride; i += 16) {
    const __m256 ql = _mm256_loadu_ps(q + i), qh = _mm256_loadu_ps(q + i + 8);
    for (int j = 0; j < 4; ++j) {
      lo[j] = _mm256_add_ps(lo[j], _mm256_mul_ps(ql, _mm256_loadu_ps(x[j] + i)));
      hi[j] = _mm256_add_ps(hi[j], _mm256_mul_ps(qh, _mm256_loadu_ps(x[j] + i + 8)));
    }
  }
  for (int j = 0; j < 4; ++j) out[j] = reduce_256(lo[j], hi[j]);
}

__attribute__((target("avx2,fma")))
void dot4_i8_avx2(const float* q, const int8_t* const* x, uint32_t stride, float* out) {
  __m256 lo[4], hi[4];
  for (int j = 0; j < 4; ++j) lo[j] = hi[j] = _mm256_setzero_ps();
  for (uint32_t i = 0; i < stride; i += 16) {
    const __m256 ql = _mm256_loadu_ps(q + i), qh = _mm256_loadu_ps(q + i + 8);
    for (int j = 0; j < 4; ++j) {
      __m128i b = _mm_loadu_si128(reinterpret_cast<const __m128i*>(x[j] + i));
      lo[j] = _mm256_add_ps(lo[j], _mm256_mul_ps(ql, _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(b))));
      hi[j] = _mm256_add_ps(hi[j], _mm256_mul_ps(qh, _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(_mm_srli_si128(b, 8)))));
    }
  }
  for (int j = 0; j < 4; ++j) out[j] = reduce_256(lo[j], hi[j]);
}

__attribute__((target("avx512f,avx512bw,avx512vl,avx512dq")))
void dot4_f32_avx512(const float* q, const float* const* x, uint32_t stride, float* out) {
  __m512 a0 = _mm512_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
  const float *x0 = x[0], *x1 = x[1], *x2 = x[2], *x3 = x[3];
  for (uint32_t i = 0; i < stride; i += 16) {
    const __m512 qv = _mm512_loadu_ps(q + i);
    a0 = _mm512_add_ps(a0, _mm512_mul_ps(qv, _mm512_loadu_ps(x0 + i)));
    a1 = _mm512_add_ps(a1, _mm512_mul_ps(qv, _mm512_loadu_ps(x1 + i)));
    a2 = _mm512_add_ps(a2, _mm512_mul_ps(qv, _mm512_loadu_ps(x2 + i)));
    a3 = _mm512_add_ps(a3, _mm512_mul_ps(qv, _mm512_loadu_ps(x3 + i)));
  }
  out[0] = reduce_512(a0);
  out[1] = reduce_512(a1);
  out[2] = reduce_512(a2);
  out[3] = reduce_512(a3);
}

__attribute__((target("avx512f,avx512bw,avx512vl,avx512dq"))) inline __m512 cvt(const int8_t* p) {
  return _mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p))));
}

__attribute__((target("avx512f,avx512bw,avx512vl,avx512dq")))
void dot4_i8_avx512(const float* q, const int8_t* const* x, uint32_t stride, float* out) {
  __m512 a0 = _mm512_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
  const int8_t *x0 = x[0], *x1 = x[1], *x2 = x[2], *x3 = x[3];
  for (uint32_t i = 0; i < stride; i += 16) {
    const __m512 qv = _mm512_loadu_ps(q + i);
    a0 = _mm512_add_ps(a0, _mm512_mul_ps(qv, cvt(x0 + i)));
    a1 = _mm512_add_ps(a1, _mm512_mul_ps(qv, cvt(x1 + i)));
    a2 = _mm512_add_ps(a2, _mm512_mul_ps(qv, cvt(x2 + i)));
    a3 = _mm512_add_ps(a3, _mm512_mul_ps(qv, cvt(x3 + i)));
  }
  out[0] = reduce_512(a0);
  out[1] = reduce_512(a1);
  out[2] = reduce_512(a2);
  out[3] = reduce_512(a3);
}
#endif

const Kernels kScalar{dot_f32_scalar, dot_i8_scalar, dot4_f32_scalar, dot4_i8_scalar, "scalar"};
#if defined(__x86_64__)
const Kernels kAvx2{dot_f32_avx2, dot_i8_avx2, dot4_f32_avx2, dot4_i8_avx2, "avx2"};
const Kernels kAvx512{dot_f32_avx512, dot_i8_avx512, dot4_f32_avx512, dot4_i8_avx512, "avx512"};
#endif

}  // namespace

const Kernels& kernels() {
  static const Kernels* k = [] {
#if defined(__x86_64__)
    switch (cpu::level()) {
      case cpu::Level::Avx512: return &kAvx512;
      case cpu::Level::Avx2: return &kAvx2;
      default: break;
    }
#endif
    return &kScalar;
  }();
  return *k;
}

}  // namespace lsr::dense
