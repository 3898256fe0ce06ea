// An immutable segment of dense vectors: row-major f32 or i8 rows (i8 with a per-vector scale) and,
// optionally, an HNSW graph over them. As for sparse segments, the in-memory image is the on-disk
// format (docs/segment-format.md, "Dense segments"), so saving writes it and opening maps it.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "common/image.h"         // Image: the owned-or-mapped byte image shared by both engines
#include "common/segment-base.h"
#include "common/segment-file.h"  // SectionEntry

namespace lsr::dense {

inline constexpr char kMagic[8] = {'L', 'S', 'R', 'D', 'N', 'S', 'E', 'G'};
inline constexpr uint32_t kFormatVersion = 1;

// Rows are padded to a multiple of 16 components (zeros), so every SIMD kernel runs whole 16-lane
// steps with no tail and each path sums in the same order (see kernels.h).
inline constexpr uint32_t kLanes = 16;
inline uint32_t stride_of(uint32_t dim) { return (dim + kLanes - 1) / kLanes * kLanes; }

enum Flags : uint32_t {
  kInt8 = 1u << 0,   // rows stored as i8, value = q * scale[row]
  kHasGraph = 1u << 1,  // HNSW graph present
};

enum Section : uint32_t {
  kDocnos = 0,     // u32[n]              global document numbers, ascending
  kVectors,        // f32[n*stride] or i8[n*stride]
  kScales,         // f32[n]              i8 only: per-row dequantization scale
  kLinks0,         // u32[n*(1+2M)]       level-0 neighbours: count, then up to 2M local ids
  kUpperOffsets,   // u64[n+1]            node -> range of upper-level link blocks (its level)
  kUpperLinks,     // u32[blocks*(1+M)]   levels 1..L of each node: count, then up to M ids
  kSectionCount
};

struct Header {
  char magic[8];
  uint32_t version;
  uint32_t flags;
  uint32_t n_docs;
  uint32_t dim;
  uint32_t stride;           // components per stored row (dim rounded up to 16)
  uint32_t hnsw_m;           // M: links per node on upper levels (2M on level 0)
  uint32_t hnsw_ef_construction;
  uint32_t hnsw_max_level;   // level of the entry point
  uint32_t hnsw_entry;       // local id where every graph walk starts
  uint32_t hnsw_seed;        // seed of the level draws (kept so a rebuild can reproduce them)
  uint32_t section_count;
  uint32_t pad0;
  SectionEntry sections[kSectionCount];
  uint32_t header_crc32c;    // over every byte before this field
  uint32_t pad;
};

struct HnswParams {
  uint32_t m = 0;  // 0 = no graph
  uint32_t ef_construction = 200;
  uint32_t seed = 1;
};

struct BuildParams {
  bool int8 = false;
  HnswParams hnsw;
  uint32_t threads = 1;
};

// Image, sections, docnos and tombstones: SegmentBase (common/segment-base.h), as sparse segments.
class Segment : public SegmentBase<Header, Section, kDocnos> {
 public:
  using SegmentBase::SegmentBase;

  uint32_t dim() const { return header_->dim; }
  uint32_t stride() const { return header_->stride; }
  bool int8() const { return header_->flags & kInt8; }
  bool has_graph() const { return header_->flags & kHasGraph; }
  const float* row_f32(uint32_t local) const { return sec<float>(kVectors) + uint64_t(local) * stride(); }
  const int8_t* row_i8(uint32_t local) const { return sec<int8_t>(kVectors) + uint64_t(local) * stride(); }
  float scale(uint32_t local) const { return sec<float>(kScales)[local]; }

  // Level-0 neighbours of a node: [count, id...]; upper levels likewise, M slots each.
  const uint32_t* links0(uint32_t local) const {
    return sec<uint32_t>(kLinks0) + uint64_t(local) * (1 + 2 * header_->hnsw_m);
  }
  uint32_t level(uint32_t local) const {
    const uint64_t* o = sec<uint64_t>(kUpperOffsets);
    return static_cast<uint32_t>(o[local + 1] - o[local]);
  }
  const uint32_t* links(uint32_t local, uint32_t lvl) const {
    if (lvl == 0) return links0(local);
    return sec<uint32_t>(kUpperLinks) + (sec<uint64_t>(kUpperOffsets)[local] + lvl - 1) * (1 + header_->hnsw_m);
  }

  // Inner product of a query (stride components, zero-padded) with a stored row, dequantized.
  float score(const float* q, uint32_t local) const;
  // Four rows at once (see Kernels::dot4_f32); out[j] equals score(q, locals[j]) bit for bit.
  void score4(const float* q, const uint32_t* locals, float* out) const;
  // Scores of `n` rows in order, four at a time.
  void score_many(const float* q, const uint32_t* locals, uint32_t n, float* out) const {
    uint32_t i = 0;
    for (; i + 4 <= n; i += 4) score4(q, locals + i, out + i);
    for (; i < n; ++i) out[i] = score(q, locals[i]);
  }
  // The stored row as f32 (dequantized for i8), `stride` components.
  void decode(uint32_t local, float* out) const;
  // The row itself for f32 segments (no copy), else decoded into `buf` (stride floats).
  const float* row_as_f32(uint32_t local, float* buf) const {
    if (!int8()) return row_f32(local);
    decode(local, buf);
    return buf;
  }
};

// n rows of `dim` floats, row-major; docnos strictly ascending. Values are finite (TS validates).
struct BuildInput {
  const uint32_t* docnos;
  uint32_t n_docs;
  uint32_t dim;
  const float* vectors;
  uint32_t row_stride;  // floats between consecutive input rows (dim, or stride for decoded rows)
};

std::shared_ptr<Segment> build_segment(const BuildInput& in, const BuildParams& p);
// Live rows of several segments (same dim) into one, graph rebuilt; i8 rows are decoded first, so
// a merge of i8 segments re-quantizes exactly the values it read (the scale of a row can only
// shrink, and round(q*s/s') with s' = s gives q back).
std::shared_ptr<Segment> merge_segments(const std::vector<std::shared_ptr<Segment>>& segs, const BuildParams& p);

}  // namespace lsr::dense
