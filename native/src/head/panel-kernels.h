// Pieces of the CPU head shared by the plain kernels (fused-head.cc) and the screened one
// (screened-head.cc): the packed f32 panel kernel and the activation. Internal to native/src/head.
#pragma once

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>

namespace lsr::head {

constexpr float kNegInf = -std::numeric_limits<float>::infinity();

// Packed panels (AVX-512): 64 vocabulary rows per panel, laid out so that one 512-bit register holds
// 16 rows; a token's hidden value is broadcast and multiplied into 4 such registers, for 6 tokens at
// a time (24 accumulators). The max over tokens is then a vertical max: no horizontal sums.
constexpr uint32_t kPanel = 64;
constexpr uint32_t kTok = 6;
constexpr uint32_t kBlock = 96;  // hidden dimensions summed in registers before folding into the totals

inline float activate(float max_logit, float bias) {
  // A text with no unmasked token has no evidence for any term.
  if (max_logit == kNegInf) return 0.f;
  const float z = max_logit + bias;
  return z > 0.f ? std::log1p(z) : 0.f;
}

#if defined(__x86_64__)
// mx[r] = max(mx[r], max over the `count` (≤ kTok) tokens of h[tok[i]] · w_r) for the 64 rows of a
// panel wp = [dim][64] floats. Each lane's arithmetic depends only on its own row and the token, so a
// row gives bit-identical results in whichever panel it is packed.
void panel_f32(const float* h, size_t stride, const uint32_t* tok, uint32_t count, uint32_t dim, const float* wp,
               float* mx);
#endif

}  // namespace lsr::head
