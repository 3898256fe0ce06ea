// File handling is the sparse engine's (common/segment-file.h: temporary file, fsync, rename,
// directory fsync; read-only mmap; the same order of checks), over the dense header and sections,
// plus a check of the graph's links.
#include "dense/segment-io.h"

#include "common/segment-file.h"

namespace lsr::dense {

namespace {

bool lengths_consistent(const Header& h) {
  const uint64_t n = h.n_docs, m = h.hnsw_m;
  const bool i8 = h.flags & kInt8, graph = h.flags & kHasGraph;
  if (h.stride != stride_of(h.dim) || h.dim == 0) return false;
  if (graph && (m == 0 || n == 0)) return false;
  const auto& S = h.sections;
  if (S[kDocnos].length != 4 * n || S[kVectors].length != n * h.stride * (i8 ? 1 : 4) ||
      S[kScales].length != (i8 ? 4 * n : 0) || S[kLinks0].length != (graph ? 4 * n * (1 + 2 * m) : 0) ||
      S[kUpperOffsets].length != (graph ? 8 * (n + 1) : 0) ||
      (graph ? S[kUpperLinks].length % (4 * (1 + m)) != 0 : S[kUpperLinks].length != 0))
    return false;
  return !graph || h.hnsw_entry < n;
}

// Graph links index rows directly during a walk: check every id and count once at open, so a
// damaged-but-checksummed file (or a bug) cannot send a search out of bounds.
bool graph_consistent(const Segment& s) {
  if (!s.has_graph()) return true;
  const Header& h = s.header();
  const uint64_t n = h.n_docs, m = h.hnsw_m;
  const uint64_t* off = s.sec<uint64_t>(kUpperOffsets);
  const uint64_t blocks = s.sec_len(kUpperLinks) / (4 * (1 + m));
  if (off[0] != 0 || off[n] != blocks) return false;
  for (uint64_t i = 0; i < n; ++i)
    if (off[i + 1] < off[i] || off[i + 1] - off[i] > 15) return false;
  if (s.level(h.hnsw_entry) != h.hnsw_max_level) return false;
  auto ok = [&](const uint32_t* l, uint64_t cap) {
    if (l[0] > cap) return false;
    for (uint32_t i = 1; i <= l[0]; ++i)
      if (l[i] >= n) return false;
    return true;
  };
  for (uint64_t i = 0; i < n; ++i) {
    if (!ok(s.links0(static_cast<uint32_t>(i)), 2 * m)) return false;
    for (uint32_t lvl = 1; lvl <= s.level(static_cast<uint32_t>(i)); ++lvl)
      if (!ok(s.links(static_cast<uint32_t>(i), lvl), m)) return false;
  }
  return true;
}

}  // namespace

IoError save_segment(const Segment& s, const std::string& path) {
  return write_file_atomic(path, &s.header(), s.bytes());
}

std::shared_ptr<Segment> open_segment(const std::string& path, IoError& err) {
  auto img = open_verified<Header, kSectionCount>(path, {"dense segment file", kMagic, kFormatVersion},
                                                  lengths_consistent, err);
  if (!img) return nullptr;
  auto seg = std::make_shared<Segment>(std::move(img));
  if (!graph_consistent(*seg)) {
    err = {"SEGMENT_CORRUPT", "dense segment file '" + path + "' has graph links outside the segment"};
    return nullptr;
  }
  return seg;
}

}  // namespace lsr::dense
