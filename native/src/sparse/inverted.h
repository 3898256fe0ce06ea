// A segment's inverted index as search reads it: each term's postings cut into runs, one per
// 65,536-document window, a run's pruned (heavy) postings first (docs/segment-format.md). The one
// place that knows which sections hold it.
#pragma once

#include <cstdint>

#include "sparse/segment.h"

namespace lsr::sparse {

struct InvertedView {
  const uint64_t* first;      // term -> its first posting
  const uint64_t* run_off;    // term -> its runs
  const uint32_t* run_win;    // run -> window
  const uint32_t* run_end;    // run -> end, counted from the term's first posting
  const uint32_t* run_heavy;  // run -> pruned postings at its start (with pruned lists)
  const uint16_t* ids;        // window-local doc ids
  const float* wf;            // f32 impacts, or null
  const uint8_t* wq;          // u8 impacts, or null
  const float* tmax;          // term -> largest weight

  explicit InvertedView(const Segment& s)
      : first(s.sec<uint64_t>(kInvOffsets)),
        run_off(s.sec<uint64_t>(kRunOffsets)),
        run_win(s.sec<uint32_t>(kRunWindows)),
        run_end(s.sec<uint32_t>(kRunEnds)),
        run_heavy(s.sec<uint32_t>(kRunHeavy)),
        ids(s.sec<uint16_t>(kInvDocs)),
        wf(s.quantized() ? nullptr : s.sec<float>(kInvWeights)),
        wq(s.quantized() ? s.sec<uint8_t>(kInvWeights) : nullptr),
        tmax(s.sec<float>(kTermMax)) {}

  // What one stored impact of term t is multiplied by to give query weight x document weight.
  float mult(uint32_t t, float query_weight) const { return wq ? query_weight * tmax[t] / 255.f : query_weight; }
};

}  // namespace lsr::sparse
