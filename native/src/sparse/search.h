// Query evaluation over segments: per-thread scratch and the two strategies (exact term-at-a-time
// in exact.cc; approximate in approx.cc: pruned lists or blocks), collecting into common/top-k.h.
#pragma once

#include <algorithm>
#include <cstdint>
#include <memory>
#include <vector>

#include "common/top-k.h"
#include "sparse/segment.h"

namespace lsr::sparse {

// A query after merging repeated terms (weights summed) and dropping non-positive weights.
struct Query {
  std::vector<uint32_t> terms;
  std::vector<float> weights;
};
Query normalize_query(const uint32_t* terms, const float* weights, size_t n);

struct SearchParams {
  uint32_t k = 10;
  bool approx = false;
  uint32_t query_cut = 10;     // approx: query terms (heaviest first) whose lists are visited
  float heap_factor = 0.9f;    // approx blocks: a block is evaluated when its summary score >= factor * threshold
  bool blocks = false;         // approx strategy: Seismic-style blocks (true) or pruned lists + re-rank (false)
  uint32_t rerank = 100;       // approx pruned: candidates re-scored exactly from the forward index
  const uint8_t* filter = nullptr;  // optional bitset over global docnos: only set bits match
  uint64_t filter_bits = 0;
};

// Per-thread scratch, grown on demand and reused across queries.
struct Scratch {
  std::vector<float> dense_query;  // vocab-sized, all zero between queries
  std::vector<float> acc;          // per-document (exact) or per-window (pruned) accumulators, all zero between queries
  std::vector<uint16_t> touched;   // approx pruned: a window's documents in order of first touch
  std::vector<uint32_t> visited;   // approx blocks: epoch stamps per document
  std::vector<Hit> pairs;          // exact over u8 impacts: (accumulator, local doc) candidates
  uint32_t epoch = 0;
  static Scratch& local();
};

inline bool allowed(const SearchParams& p, uint32_t docno) {
  if (!p.filter) return true;
  if (docno >= p.filter_bits) return false;
  return (p.filter[docno >> 3] >> (docno & 7)) & 1;
}

void search_exact(const Segment& s, const Query& q, const SearchParams& p, Scratch& sc, TopK& top);
void search_blocks(const Segment& s, const Query& q, const SearchParams& p, Scratch& sc, TopK& top);
void search_pruned(const Segment& s, const Query& q, const SearchParams& p, Scratch& sc, TopK& top);

// Searches every segment and returns the best k, best first.
std::vector<Hit> sparse_search(const std::vector<std::shared_ptr<Segment>>& segs, const Query& q,
                               const SearchParams& p);

}  // namespace lsr::sparse
