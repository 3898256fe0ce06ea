// Dense segment construction: lay out docnos and rows (quantized to i8 when asked), size the graph
// sections from the drawn levels, build the graph in place, then checksum every section.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <stdexcept>

#include "common/crc32c.h"
#include "common/image.h"
#include "common/parallel.h"
#include "common/segment-file.h"
#include "dense/hnsw.h"
#include "dense/segment.h"

namespace lsr::dense {

namespace {

using Layout = SectionLayout<sizeof(Header), kSectionCount>;

// Rows arrive either as f32 to store (and maybe quantize) or, from a merge, as i8 rows with their
// scales to copy unchanged (re-quantizing decoded values could move a component by one step).
struct Rows {
  uint32_t n;
  const uint32_t* docnos;
  // Writes row i into `dst` (stride components of the stored type) and returns its scale (i8).
  virtual float put(uint32_t i, void* dst) const = 0;
  virtual ~Rows() = default;
};

std::shared_ptr<Segment> assemble(const Rows& rows, uint32_t dim, const BuildParams& p) {
  const uint32_t n = rows.n, stride = stride_of(dim), m = p.hnsw.m;
  const bool graph = m > 0 && n > 0;
  const uint64_t row_bytes = uint64_t(stride) * (p.int8 ? 1 : 4);
  std::vector<uint64_t> upper_off;
  if (graph) {
    upper_off.resize(uint64_t(n) + 1);
    upper_off[0] = 0;
    for (uint32_t i = 0; i < n; ++i) upper_off[i + 1] = upper_off[i] + draw_level(p.hnsw.seed, rows.docnos[i], m);
  }
  Layout L;
  L.len[kDocnos] = 4ull * n;
  L.len[kVectors] = row_bytes * n;
  L.len[kScales] = p.int8 ? 4ull * n : 0;
  L.len[kLinks0] = graph ? 4ull * n * (1 + 2 * m) : 0;
  L.len[kUpperOffsets] = graph ? 8ull * (n + 1) : 0;
  L.len[kUpperLinks] = graph ? 4ull * upper_off[n] * (1 + m) : 0;
  L.place();
  auto owned = std::make_unique<OwnedImage>(L.total);  // zero-filled: padding and empty link lists
  OwnedImage* img = owned.get();
  uint8_t* base = img->mutable_data();
  if (n) std::memcpy(base + L.off[kDocnos], rows.docnos, 4ull * n);
  float* scales = reinterpret_cast<float*>(base + L.off[kScales]);
  parallel_chunks(n, p.threads, 4096, [&](uint32_t, uint64_t b, uint64_t e) {
    for (uint64_t i = b; i < e; ++i) {
      const float s = rows.put(static_cast<uint32_t>(i), base + L.off[kVectors] + i * row_bytes);
      if (p.int8) scales[i] = s;
    }
  });
  if (graph) std::memcpy(base + L.off[kUpperOffsets], upper_off.data(), 8ull * (n + 1));

  Header h{};
  std::memcpy(h.magic, kMagic, 8);
  h.version = kFormatVersion;
  h.flags = (p.int8 ? uint32_t(kInt8) : 0u) | (graph ? uint32_t(kHasGraph) : 0u);
  h.n_docs = n;
  h.dim = dim;
  h.stride = stride;
  h.hnsw_m = graph ? m : 0;
  h.hnsw_ef_construction = graph ? p.hnsw.ef_construction : 0;
  h.hnsw_seed = graph ? p.hnsw.seed : 0;
  h.section_count = kSectionCount;
  for (uint32_t s = 0; s < kSectionCount; ++s) h.sections[s] = {L.off[s], L.len[s], 0, 0};
  std::memcpy(base, &h, sizeof(Header));
  // The segment reads rows and levels through the header; the graph is written through `base`
  // before anyone else sees the segment, then the checksums seal it.
  auto seg = std::make_shared<Segment>(std::move(owned));
  if (graph) {
    GraphEntry ge = build_graph(*seg, reinterpret_cast<uint32_t*>(base + L.off[kLinks0]),
                                reinterpret_cast<uint32_t*>(base + L.off[kUpperLinks]), m, p.hnsw.ef_construction,
                                std::max(1u, p.threads));
    h.hnsw_entry = ge.entry;
    h.hnsw_max_level = ge.max_level;
  }
  for (uint32_t s = 0; s < kSectionCount; ++s) h.sections[s].crc32c = crc32c(base + L.off[s], L.len[s]);
  h.header_crc32c = crc32c(&h, offsetof(Header, header_crc32c));
  std::memcpy(base, &h, sizeof(Header));
  return seg;
}

struct FloatRows final : Rows {
  const float* v;
  uint32_t dim, in_stride, stride;
  bool int8;
  float put(uint32_t i, void* dst) const override {
    const float* src = v + uint64_t(i) * in_stride;
    if (!int8) {
      std::memcpy(dst, src, 4ull * dim);
      return 0.f;
    }
    // Symmetric per-row scale: max |x| maps to 127, so every component is off by at most scale/2.
    float mx = 0.f;
    for (uint32_t j = 0; j < dim; ++j) mx = std::max(mx, std::fabs(src[j]));
    const float scale = mx > 0.f ? mx / 127.f : 1.f;
    int8_t* q = static_cast<int8_t*>(dst);
    for (uint32_t j = 0; j < dim; ++j)
      q[j] = static_cast<int8_t>(std::clamp<long>(std::lround(src[j] / scale), -127, 127));
    return scale;
  }
};

}  // namespace

std::shared_ptr<Segment> build_segment(const BuildInput& in, const BuildParams& p) {
  FloatRows rows;
  rows.n = in.n_docs;
  rows.docnos = in.docnos;
  rows.v = in.vectors;
  rows.dim = in.dim;
  rows.in_stride = in.row_stride ? in.row_stride : in.dim;
  rows.stride = stride_of(in.dim);
  rows.int8 = p.int8;
  return assemble(rows, in.dim, p);
}

std::shared_ptr<Segment> merge_segments(const std::vector<std::shared_ptr<Segment>>& segs, const BuildParams& p) {
  struct Ref {
    uint32_t docno, seg, local;
  };
  std::vector<Ref> refs;
  uint32_t dim = 0;
  for (uint32_t s = 0; s < segs.size(); ++s) {
    if (dim && segs[s]->dim() != dim) throw std::invalid_argument("merge: segments differ in dimension");
    dim = segs[s]->dim();
    for (uint32_t i = 0; i < segs[s]->n_docs(); ++i)
      if (!segs[s]->is_deleted(i)) refs.push_back({segs[s]->docnos()[i], s, i});
  }
  std::sort(refs.begin(), refs.end(), [](const Ref& a, const Ref& b) { return a.docno < b.docno; });
  std::vector<uint32_t> docnos(refs.size());
  for (size_t i = 0; i < refs.size(); ++i) docnos[i] = refs[i].docno;

  struct MergeRows final : Rows {
    const std::vector<std::shared_ptr<Segment>>* segs;
    const std::vector<Ref>* refs;
    bool int8;
    float put(uint32_t i, void* dst) const override {
      const Ref& r = (*refs)[i];
      const Segment& s = *(*segs)[r.seg];
      if (int8 && s.int8()) {
        std::memcpy(dst, s.row_i8(r.local), s.stride());
        return s.scale(r.local);
      }
      if (!int8) {
        s.decode(r.local, static_cast<float*>(dst));
        return 0.f;
      }
      // f32 rows into an i8 segment (not produced by DenseIndex, which keeps one storage type).
      std::vector<float> tmp(s.stride());
      s.decode(r.local, tmp.data());
      FloatRows one;
      one.v = tmp.data();
      one.dim = s.dim();
      one.in_stride = s.stride();
      one.stride = s.stride();
      one.int8 = true;
      return one.put(0, dst);
    }
  } rows;
  rows.n = static_cast<uint32_t>(refs.size());
  rows.docnos = docnos.data();
  rows.segs = &segs;
  rows.refs = &refs;
  rows.int8 = p.int8;
  return assemble(rows, dim, p);
}

}  // namespace lsr::dense
