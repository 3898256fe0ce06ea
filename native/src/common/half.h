// IEEE 754 binary16 <-> binary32 for stored document weights (sparse `weightsF16`). Scalar and
// portable: conversions happen once per weight at build time and in merges; search-time kernels
// convert eight or sixteen at a time with F16C / AVX-512 (sparse/forward.cc).
#pragma once

#include <cmath>
#include <cstdint>
#include <cstring>

namespace lsr {

inline float f16_to_f32(uint16_t h) {
  const uint32_t sign = uint32_t(h & 0x8000u) << 16;
  const uint32_t exp = (h >> 10) & 0x1fu, man = h & 0x3ffu;
  uint32_t bits;
  if (exp == 0) {
    // Zero or subnormal: man x 2^-24, exact in f32.
    float f = static_cast<float>(man) * 5.9604644775390625e-8f;
    std::memcpy(&bits, &f, 4);
    bits |= sign;
  } else if (exp == 31) {
    bits = sign | 0x7f800000u | (man << 13);
  } else {
    bits = sign | ((exp + 112) << 23) | (man << 13);
  }
  float out;
  std::memcpy(&out, &bits, 4);
  return out;
}

// Round to nearest, ties to even. Magnitudes past the largest finite half (65504) saturate to it:
// callers validate weights first (index/validate.ts), so this only keeps a bad value finite.
inline uint16_t f32_to_f16(float f) {
  uint32_t x;
  std::memcpy(&x, &f, 4);
  const uint32_t sign = (x >> 16) & 0x8000u, ax = x & 0x7fffffffu;
  if (ax > 0x7f800000u) return static_cast<uint16_t>(sign | 0x7e00u);  // NaN
  if (ax >= 0x477ff000u) return static_cast<uint16_t>(sign | 0x7bffu);  // >= 65520 would round to inf
  if (ax < 0x38800000u) {  // below 2^-14: a subnormal half, man = round(|f| x 2^24)
    float a;
    std::memcpy(&a, &ax, 4);
    return static_cast<uint16_t>(sign | static_cast<uint32_t>(std::nearbyint(a * 16777216.f)));
  }
  uint32_t h = (((ax >> 23) - 112) << 10) | ((ax & 0x7fffffu) >> 13);
  const uint32_t rem = ax & 0x1fffu;
  if (rem > 0x1000u || (rem == 0x1000u && (h & 1u))) ++h;  // a carry moves into the exponent, as it should
  return static_cast<uint16_t>(sign | h);
}

// A positive weight as stored at f16 precision: rounded, and never rounded down to zero (a term
// that was in the document stays in it, at the smallest half, 2^-24).
inline float round_weight_f16(float w) {
  const float r = f16_to_f32(f32_to_f16(w));
  return r > 0.f ? r : 5.9604644775390625e-8f;
}

}  // namespace lsr
