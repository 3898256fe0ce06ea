// Dense top-k over segments: exact (every live, allowed row scored) or through each segment's HNSW
// graph. Hits, the bounded top-k and its tie order (score, then ascending docno) are common/top-k.h,
// shared with the sparse engine, so both return the same shape with the same ordering rules.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "common/top-k.h"
#include "dense/segment.h"

namespace lsr::dense {

struct SearchParams {
  uint32_t k = 10;
  bool approx = false;
  uint32_t ef = 64;                 // approx: candidate list size of the level-0 walk (raised to k)
  const uint8_t* filter = nullptr;  // bitset over global docnos; only set bits match
  uint64_t filter_bits = 0;
};

// `q` holds dim floats. Segments all have that dim (the TypeScript layer guarantees it).
std::vector<Hit> dense_search(const std::vector<std::shared_ptr<Segment>>& segs, const float* q, const SearchParams& p);

// Exact top-k for a block of queries at once: each row is read from memory once and scored
// against every query of the block while it sits in cache (the batch path's throughput).
void search_exact_block(const std::vector<std::shared_ptr<Segment>>& segs, const float* const* qs, uint32_t nq,
                        const SearchParams& p, std::vector<Hit>* out);

}  // namespace lsr::dense
