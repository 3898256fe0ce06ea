#include "sparse/segment-io.h"

#include "common/segment-file.h"

namespace lsr::sparse {

namespace {

// Expected byte length of each section from the header's counts; -1 = any (variable sized).
bool lengths_consistent(const Header& h) {
  const uint64_t n = h.n_docs, V = h.vocab, nnz = h.nnz, B = h.n_blocks, R = h.n_runs;
  const bool blocks = h.flags & kHasBlocks, approx = h.flags & kHasApprox, q8 = h.flags & kQuantU8;
  if (blocks && !approx) return false;
  if ((h.flags & kFwdTerms16) && V > 65536) return false;
  const uint64_t exp[kSectionCount] = {
      4 * n, 8 * (n + 1), ((h.flags & kFwdTerms16) ? 2 : 4) * nnz, ((h.flags & kFwdF16) ? 2 : 4) * nnz,
      8 * (V + 1), 8 * (V + 1), 4 * R, 4 * R, approx ? 4 * R : 0, 2 * nnz, (q8 ? 1 : 4) * nnz, 4 * V,
      q8 ? 4 * V : 0,
      blocks ? 8 * (V + 1) : 0, blocks ? 8 * (B + 1) : 0, UINT64_MAX,
      blocks ? 8 * (B + 1) : 0, UINT64_MAX, UINT64_MAX, blocks ? 4 * B : 0};
  for (uint32_t s = 0; s < kSectionCount; ++s)
    if (exp[s] != UINT64_MAX && h.sections[s].length != exp[s]) return false;
  // The variable-sized block sections must agree with each other.
  if (h.sections[kSumTerms].length / 4 != h.sections[kSumValues].length) return false;
  if (h.sections[kSumTerms].length % 4 || h.sections[kBlkDocs].length % 4) return false;
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
