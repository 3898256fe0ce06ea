// HNSW (Malkov & Yashunin, TPAMI 2018) over a dense segment's own rows, by inner product. The
// graph lives in the segment image (sections kLinks0, kUpperOffsets, kUpperLinks), so it is saved,
// checksummed and mapped with the vectors; it is built once per segment and rebuilt by merges.
#pragma once

#include <cstdint>
#include <vector>

#include "dense/segment.h"

namespace lsr::dense {

// Level of a document in the graph: a geometric draw (ratio 1/M) from a hash of (seed, docno),
// so a rebuild of the same documents draws the same levels.
uint32_t draw_level(uint32_t seed, uint32_t docno, uint32_t m);

// Fills the link sections of `seg` (writable through `links0`/`upper`, already sized from the
// levels) and returns {entry point, its level}.
struct GraphEntry {
  uint32_t entry;
  uint32_t max_level;
};
GraphEntry build_graph(const Segment& seg, uint32_t* links0, uint32_t* upper, uint32_t m, uint32_t ef_construction,
                       uint32_t threads);

}  // namespace lsr::dense
