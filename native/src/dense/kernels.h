// Inner-product kernels, one per instruction set, picked once through common/cpu.h (so LSR_SIMD caps
// them as it caps the sparse kernels).
//
// Every path computes the same float operations in the same order: 16 lane sums (lane l adds
// q[i+l] * x[i+l] for i = 0, 16, 32, ...; multiply then add, never fused), then one fixed reduction
// tree (lanes l and l+8, then l and l+4, then l and l+2, then 0 and 1). Scores are therefore
// bit-identical on scalar, AVX2 and AVX-512 machines, and ties between equal vectors stay ties.
#pragma once

#include <cstdint>

namespace lsr::dense {

struct Kernels {
  // q and x hold `stride` components (a multiple of 16, zero-padded).
  float (*dot_f32)(const float* q, const float* x, uint32_t stride);
  // The unscaled product with an i8 row: multiply by the row's scale for the score.
  float (*dot_i8)(const float* q, const int8_t* x, uint32_t stride);
  // q against four vectors at once: four independent sum chains keep the adders busy where one
  // chain waits on its own latency. Each out[j] is bit-identical to the single-vector kernel.
  void (*dot4_f32)(const float* q, const float* const* x, uint32_t stride, float* out);
  void (*dot4_i8)(const float* q, const int8_t* const* x, uint32_t stride, float* out);
  const char* name;
};

const Kernels& kernels();

}  // namespace lsr::dense
