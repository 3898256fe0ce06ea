#include "sparse/segment-io.h"

#include "common/segment-file.h"

namespace lsr::sparse {

namespace {

// Expected byte length of each section from the header's counts; -1 = any (variable sized).
bool lengths_consistent(const Header& h) {
  const uint64_t n = h.n_docs, V = h.vocab, nnz = h.nnz, B = h.n_blocks;
  const uint64_t exp[kSectionCount] = {
      4 * n, 8 * (n + 1), 4 * nnz, 4 * nnz, 8 * (V + 1), 4 * nnz, ((h.flags & kQuantU8) ? 1 : 4) * nnz, 4 * V,
      (h.flags & kHasBlocks) ? 8 * (V + 1) : 0, (h.flags & kHasBlocks) ? 8 * (B + 1) : 0, UINT64_MAX,
      (h.flags & kHasBlocks) ? 8 * (B + 1) : 0, UINT64_MAX, UINT64_MAX, (h.flags & kHasBlocks) ? 4 * B : 0,
      (h.flags & kHasApprox) ? 8 * (V + 1) : 0, UINT64_MAX, UINT64_MAX};
  for (uint32_t s = 0; s < kSectionCount; ++s)
    if (exp[s] != UINT64_MAX && h.sections[s].length != exp[s]) return false;
  // The variable-sized approximate sections must agree with each other.
  if (h.sections[kSumTerms].length / 4 != h.sections[kSumValues].length) return false;
  if (h.sections[kSumTerms].length % 4 || h.sections[kBlkDocs].length % 4) return false;
  if (h.sections[kPrunedDocs].length != h.sections[kPrunedWeights].length || h.sections[kPrunedDocs].length % 4) return false;
  return true;
}

}  // namespace

IoError save_segment(const Segment& s, const std::string& path) {
  return write_file_atomic(path, &s.header(), s.bytes());
}

std::shared_ptr<Segment> open_segment(const std::string& path, IoError& err) {
  auto img =
      open_verified<Header, kSectionCount>(path, {"segment file", kMagic, kFormatVersion}, lengths_consistent, err);
  return img ? std::make_shared<Segment>(std::move(img)) : nullptr;
}

}  // namespace lsr::sparse
