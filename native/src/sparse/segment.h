// An immutable segment of sparse vectors: a forward index (doc -> terms, weights), an inverted
// index (term -> docs, impacts) whose lists are cut into runs of one 65,536-document window each
// (16-bit window-local ids; with an approximate index each run starts with its heaviest postings,
// which are the pruned lists), and, optionally, the blocked and summarized posting lists of the
// `blocks` strategy. All arrays live in one contiguous image whose layout is exactly the on-disk
// format (docs/segment-format.md), so saving writes the image and opening maps it back.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "common/image.h"
#include "common/segment-base.h"
#include "common/segment-file.h"  // SectionEntry

namespace lsr::sparse {

inline constexpr char kMagic[8] = {'L', 'S', 'R', 'S', 'P', 'S', 'E', 'G'};
inline constexpr uint32_t kFormatVersion = 2;

// Documents per window of the inverted index: a run's ids are 16-bit offsets into its window.
inline constexpr uint32_t kWindowBits = 16;

enum Flags : uint32_t {
  kQuantU8 = 1u << 0,     // inverted impacts stored as u8 with a per-term scale
  kHasApprox = 1u << 1,   // statically pruned lists present
  kHasBlocks = 1u << 2,   // Seismic-style blocks and summaries present
  kFwdTerms16 = 1u << 3,  // forward term ids stored as u16 (every term id < 65536)
  kFwdF16 = 1u << 4,      // document weights rounded to f16 at build; the forward index stores f16
};

// Section ids; their order in the file is the order of this enum.
enum Section : uint32_t {
  kDocnos = 0,        // u32[n]     global document numbers, ascending
  kFwdOffsets,        // u64[n+1]
  kFwdTerms,          // u32[nnz], or u16[nnz] when kFwdTerms16; ascending within a document
  kFwdWeights,        // f32[nnz], or f16[nnz] when kFwdF16
  kInvOffsets,        // u64[V+1]   term -> range of its postings in kInvDocs / kInvWeights
  kRunOffsets,        // u64[V+1]   term -> range of its runs (one per window holding the term)
  kRunWindows,        // u32[R]     a run's window: its documents are window << 16 | id
  kRunEnds,           // u32[R]     a run's end, counted from the term's first posting
  kRunHeavy,          // u32[R]     approx: postings at the run's start that belong to the pruned list
  kInvDocs,           // u16[nnz]   window-local doc ids: a run's heavy part, then the rest, each ascending
  kInvWeights,        // f32[nnz], or u8[nnz] when kQuantU8
  kTermMax,           // f32[V]     largest weight of each term in this segment
  kTermErr,           // f32[V]     kQuantU8: largest |weight - dequantized impact| of each term
  kBlkTermOffsets,    // u64[V+1]   term -> range of blocks
  kBlkDocOffsets,     // u64[B+1]   block -> range of kBlkDocs
  kBlkDocs,           // u32[...]   local doc ids of each block
  kSumOffsets,        // u64[B+1]   block -> range of summary entries
  kSumTerms,          // u32[...]
  kSumValues,         // u8[...]    summary weight = value * scale[block]
  kSumScale,          // f32[B]
  kSectionCount
};

struct Header {
  char magic[8];
  uint32_t version;
  uint32_t flags;
  uint32_t n_docs;
  uint32_t vocab;          // term ids are < vocab
  uint64_t nnz;
  uint64_t n_blocks;
  uint64_t n_runs;         // R: (term, window) runs of the inverted index
  // Approximate-index build parameters, kept for stats and for rebuilding on merge.
  uint32_t approx_postings;   // lambda: postings kept per term list
  float approx_block_ratio;   // blocks per kept posting (beta / lambda)
  float approx_summary_energy;  // alpha: fraction of a summary's L1 mass kept
  uint32_t section_count;
  SectionEntry sections[kSectionCount];
  uint32_t header_crc32c;     // over every byte before this field
  uint32_t pad;
};

struct ApproxParams {
  uint32_t postings = 0;         // lambda; 0 = no approximate index
  float block_ratio = 0.1f;      // beta = ceil(kept postings * block_ratio)
  float summary_energy = 0.4f;   // alpha
  bool blocks = false;           // also build clustered blocks with summaries
};

struct BuildParams {
  bool quantize_u8 = false;
  bool weights_f16 = false;  // round document weights to f16 (halves the forward index)
  ApproxParams approx;
  uint32_t threads = 1;
};

// Image, sections, docnos and tombstones: SegmentBase (common/segment-base.h).
class Segment : public SegmentBase<Header, Section, kDocnos> {
 public:
  using SegmentBase::SegmentBase;

  uint32_t vocab() const { return header_->vocab; }
  uint64_t nnz() const { return header_->nnz; }
  uint64_t n_blocks() const { return header_->n_blocks; }
  uint64_t n_runs() const { return header_->n_runs; }
  bool quantized() const { return header_->flags & kQuantU8; }
  bool terms16() const { return header_->flags & kFwdTerms16; }
  bool weights16() const { return header_->flags & kFwdF16; }
  bool has_approx() const { return header_->flags & kHasApprox; }
  bool has_blocks() const { return header_->flags & kHasBlocks; }
};

// Build input: a batch of documents in CSR form. Terms within a document need not be sorted and
// may repeat (the largest weight wins, as max-pooling would give); weights must be finite and > 0
// (zeros are dropped). The TypeScript layer validates before calling.
struct BuildInput {
  const uint32_t* docnos;
  uint32_t n_docs;
  const uint64_t* offsets;  // n_docs + 1
  const uint32_t* terms;
  const float* weights;
  uint32_t vocab;
};

std::shared_ptr<Segment> build_segment(const BuildInput& in, const BuildParams& p);

// Merge live documents of several segments into one (purges tombstones). Params as given.
std::shared_ptr<Segment> merge_segments(const std::vector<std::shared_ptr<Segment>>& segs,
                                        const BuildParams& p);

}  // namespace lsr::sparse
