// Reading a segment's forward index whatever its storage: term ids u16 or u32, weights f16 or f32
// (segment flags kFwdTerms16, kFwdF16). Re-scoring in every search strategy goes through dot().
#pragma once

#include <cstdint>

#include "sparse/segment.h"

namespace lsr::sparse {

class ForwardView {
 public:
  explicit ForwardView(const Segment& s);

  uint64_t length(uint32_t d) const { return off_[d + 1] - off_[d]; }
  // Dot product of document d with a dense, vocabulary-sized query (SIMD-dispatched).
  float dot(uint32_t d, const float* dense) const;
  // Starts fetching document d's entries: re-ranked candidates sit at unrelated places in memory.
  void prefetch(uint32_t d) const;
  // Decodes document d into terms/weights (each `length(d)` long).
  void read(uint32_t d, uint32_t* terms, float* weights) const;

 private:
  const uint64_t* off_;
  const uint8_t* terms_;
  const uint8_t* weights_;
  uint32_t term_bytes_, weight_bytes_;
  float (*dot_)(const void* terms, const void* weights, uint64_t n, const float* dense);
};

}  // namespace lsr::sparse
