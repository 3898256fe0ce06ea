// Segment construction: normalize documents, invert them, and (optionally) build the blocked,
// summarized posting lists of the approximate index, then lay everything out in one image.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <numeric>
#include <stdexcept>

#include "common/crc32c.h"
#include "common/image.h"
#include "common/parallel.h"
#include "common/segment-file.h"
#include "sparse/segment.h"

namespace lsr::sparse {

namespace {

constexpr uint32_t kSketchTerms = 16;  // terms per document sketch used to cluster posting lists

inline uint64_t splitmix(uint64_t& s) {
  uint64_t z = (s += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

struct Forward {
  std::vector<uint64_t> offsets;
  std::vector<uint32_t> terms;
  std::vector<float> weights;
};

// Sort each document's entries by term, merge duplicates with max, drop non-positive weights.
Forward normalize(const BuildInput& in, uint32_t threads) {
  const uint32_t n = in.n_docs;
  constexpr uint64_t kChunk = 4096;
  const uint64_t n_chunks = (n + kChunk - 1) / kChunk;
  std::vector<Forward> parts(n_chunks);
  parallel_chunks(n, threads, kChunk, [&](uint32_t, uint64_t b, uint64_t e) {
    Forward& f = parts[b / kChunk];
    f.offsets.reserve(e - b);
    f.terms.reserve(in.offsets[e] - in.offsets[b]);
    f.weights.reserve(in.offsets[e] - in.offsets[b]);
    std::vector<std::pair<uint32_t, float>> tmp;
    for (uint64_t d = b; d < e; ++d) {
      const uint64_t s = in.offsets[d], t = in.offsets[d + 1];
      bool sorted = true;
      for (uint64_t i = s + 1; i < t && sorted; ++i) sorted = in.terms[i - 1] < in.terms[i];
      if (sorted) {
        for (uint64_t i = s; i < t; ++i)
          if (in.weights[i] > 0.f) {
            f.terms.push_back(in.terms[i]);
            f.weights.push_back(in.weights[i]);
          }
      } else {
        tmp.clear();
        for (uint64_t i = s; i < t; ++i) tmp.emplace_back(in.terms[i], in.weights[i]);
        std::sort(tmp.begin(), tmp.end(), [](auto& a, auto& b) { return a.first < b.first; });
        for (size_t i = 0; i < tmp.size();) {
          size_t j = i;
          float w = tmp[i].second;
          while (++j < tmp.size() && tmp[j].first == tmp[i].first) w = std::max(w, tmp[j].second);
          if (w > 0.f) {
            f.terms.push_back(tmp[i].first);
            f.weights.push_back(w);
          }
          i = j;
        }
      }
      f.offsets.push_back(f.terms.size());  // end offset within the part
    }
  });
  Forward out;
  out.offsets.resize(uint64_t(n) + 1);
  uint64_t total = 0;
  for (auto& p : parts) total += p.terms.size();
  out.terms.resize(total);
  out.weights.resize(total);
  uint64_t base = 0, d = 0;
  out.offsets[0] = 0;
  for (auto& p : parts) {
    std::memcpy(out.terms.data() + base, p.terms.data(), p.terms.size() * 4);
    std::memcpy(out.weights.data() + base, p.weights.data(), p.weights.size() * 4);
    for (uint64_t e : p.offsets) out.offsets[++d] = base + e;
    base += p.terms.size();
    p = Forward{};  // release each part once copied
  }
  return out;
}

struct Inverted {
  std::vector<uint64_t> offsets;  // V + 1
  std::vector<uint32_t> docs;
  std::vector<float> weights;
  std::vector<float> term_max;
};

Inverted invert(const Forward& f, uint32_t n, uint32_t vocab) {
  Inverted inv;
  inv.offsets.assign(uint64_t(vocab) + 1, 0);
  inv.term_max.assign(vocab, 0.f);
  for (uint32_t t : f.terms) ++inv.offsets[t + 1];
  for (uint32_t v = 0; v < vocab; ++v) inv.offsets[v + 1] += inv.offsets[v];
  inv.docs.resize(f.terms.size());
  inv.weights.resize(f.terms.size());
  std::vector<uint64_t> pos(inv.offsets.begin(), inv.offsets.end() - 1);
  for (uint32_t d = 0; d < n; ++d) {
    for (uint64_t i = f.offsets[d]; i < f.offsets[d + 1]; ++i) {
      uint32_t t = f.terms[i];
      uint64_t p = pos[t]++;
      inv.docs[p] = d;
      inv.weights[p] = f.weights[i];
      inv.term_max[t] = std::max(inv.term_max[t], f.weights[i]);
    }
  }
  return inv;
}

struct TermBlocks {
  std::vector<uint32_t> block_sizes;  // docs per block
  std::vector<uint32_t> docs;
  std::vector<uint32_t> sum_sizes;    // summary entries per block
  std::vector<uint32_t> sum_terms;
  std::vector<uint8_t> sum_values;
  std::vector<float> scales;
  std::vector<uint32_t> pruned_docs;  // the kept postings, by ascending doc id
  std::vector<float> pruned_weights;
};

struct Sketches {
  std::vector<uint64_t> offsets;
  std::vector<uint32_t> terms;
  std::vector<float> weights;
};

Sketches make_sketches(const Forward& f, uint32_t n, uint32_t threads) {
  Sketches s;
  s.offsets.resize(uint64_t(n) + 1);
  for (uint32_t d = 0; d < n; ++d)
    s.offsets[d + 1] = s.offsets[d] + std::min<uint64_t>(kSketchTerms, f.offsets[d + 1] - f.offsets[d]);
  s.terms.resize(s.offsets[n]);
  s.weights.resize(s.offsets[n]);
  parallel_chunks(n, threads, 8192, [&](uint32_t, uint64_t b, uint64_t e) {
    std::vector<uint32_t> idx;
    for (uint64_t d = b; d < e; ++d) {
      uint64_t lo = f.offsets[d], hi = f.offsets[d + 1];
      idx.resize(hi - lo);
      std::iota(idx.begin(), idx.end(), 0);
      size_t m = s.offsets[d + 1] - s.offsets[d];
      std::partial_sort(idx.begin(), idx.begin() + m, idx.end(), [&](uint32_t a, uint32_t c) {
        return f.weights[lo + a] > f.weights[lo + c];
      });
      for (size_t i = 0; i < m; ++i) {
        s.terms[s.offsets[d] + i] = f.terms[lo + idx[i]];
        s.weights[s.offsets[d] + i] = f.weights[lo + idx[i]];
      }
    }
  });
  return s;
}

// Per-worker scratch for the approximate build, sized to the vocabulary once.
struct BlockScratch {
  std::vector<int32_t> head;      // term -> first centroid-entry index, -1 when absent
  std::vector<uint32_t> touched;
  std::vector<float> summary;     // dense max accumulator
  std::vector<uint32_t> summary_touched;
  explicit BlockScratch(uint32_t vocab) : head(vocab, -1), summary(vocab, 0.f) {}
};

// Seismic-style list for one term: keep the `postings` heaviest entries, cluster their documents
// around randomly chosen centroid documents (shallow k-means, one assignment round, on sketches),
// then summarize each cluster by the component-wise max of its documents pruned to `energy` of
// its L1 mass and quantized to u8.
void build_term_blocks(uint32_t term, const Inverted& inv, const Forward& f, const Sketches& sk,
                       const ApproxParams& p, BlockScratch& s, TermBlocks& out) {
  const uint64_t lo = inv.offsets[term], hi = inv.offsets[term + 1];
  const uint32_t len = static_cast<uint32_t>(hi - lo);
  if (len == 0) return;
  std::vector<uint32_t> kept(len);
  std::iota(kept.begin(), kept.end(), 0);
  if (len > p.postings) {
    std::nth_element(kept.begin(), kept.begin() + p.postings, kept.end(), [&](uint32_t a, uint32_t b) {
      float wa = inv.weights[lo + a], wb = inv.weights[lo + b];
      return wa != wb ? wa > wb : a < b;
    });
    kept.resize(p.postings);
  }
  std::sort(kept.begin(), kept.end());  // inverted lists ascend by doc id, so this keeps that order
  for (uint32_t k : kept) {
    out.pruned_docs.push_back(inv.docs[lo + k]);
    out.pruned_weights.push_back(inv.weights[lo + k]);
  }
  for (auto& k : kept) k = inv.docs[lo + k];  // now local doc ids
  if (!p.blocks) return;
  const uint32_t m = static_cast<uint32_t>(kept.size());
  const uint32_t beta = std::max<uint32_t>(1, static_cast<uint32_t>(std::ceil(m * p.block_ratio)));

  std::vector<uint32_t> assign(m, 0);
  if (beta > 1) {
    uint64_t seed = 0x5EED0000ull + term;
    std::vector<uint32_t> order(kept);
    for (uint32_t i = 0; i < beta; ++i) {
      uint32_t j = i + static_cast<uint32_t>(splitmix(seed) % (m - i));
      std::swap(order[i], order[j]);
    }
    // Centroid entries grouped by term: (term, centroid, weight).
    struct E { uint32_t term, c; float w; };
    std::vector<E> ents;
    for (uint32_t c = 0; c < beta; ++c) {
      uint32_t d = order[c];
      for (uint64_t i = sk.offsets[d]; i < sk.offsets[d + 1]; ++i)
        if (sk.terms[i] != term) ents.push_back({sk.terms[i], c, sk.weights[i]});
    }
    std::sort(ents.begin(), ents.end(), [](const E& a, const E& b) { return a.term < b.term; });
    s.touched.clear();
    for (size_t i = 0; i < ents.size(); ++i)
      if (i == 0 || ents[i].term != ents[i - 1].term) {
        s.head[ents[i].term] = static_cast<int32_t>(i);
        s.touched.push_back(ents[i].term);
      }
    std::vector<float> score(beta);
    for (uint32_t i = 0; i < m; ++i) {
      uint32_t d = kept[i];
      std::fill(score.begin(), score.end(), 0.f);
      bool any = false;
      for (uint64_t j = sk.offsets[d]; j < sk.offsets[d + 1]; ++j) {
        int32_t h = s.head[sk.terms[j]];
        if (h < 0 || sk.terms[j] == term) continue;
        for (size_t e = h; e < ents.size() && ents[e].term == sk.terms[j]; ++e) {
          score[ents[e].c] += sk.weights[j] * ents[e].w;
          any = true;
        }
      }
      assign[i] = any ? static_cast<uint32_t>(std::max_element(score.begin(), score.end()) - score.begin())
                      : d % beta;
    }
    for (uint32_t t : s.touched) s.head[t] = -1;
  }
  // Group by cluster; documents inside a block ascend so the forward index is read in order.
  std::vector<uint32_t> idx(m);
  std::iota(idx.begin(), idx.end(), 0);
  std::sort(idx.begin(), idx.end(), [&](uint32_t a, uint32_t b) {
    return assign[a] != assign[b] ? assign[a] < assign[b] : kept[a] < kept[b];
  });
  std::vector<std::pair<uint32_t, float>> ents;
  for (uint32_t i = 0; i < m;) {
    uint32_t j = i;
    while (j < m && assign[idx[j]] == assign[idx[i]]) ++j;
    out.block_sizes.push_back(j - i);
    s.summary_touched.clear();
    for (uint32_t q = i; q < j; ++q) {
      uint32_t d = kept[idx[q]];
      out.docs.push_back(d);
      for (uint64_t x = f.offsets[d]; x < f.offsets[d + 1]; ++x) {
        float& v = s.summary[f.terms[x]];
        if (v == 0.f) s.summary_touched.push_back(f.terms[x]);
        v = std::max(v, f.weights[x]);
      }
    }
    // Keep the heaviest entries holding `summary_energy` of the L1 mass. Values are quantized to
    // u8 anyway, so a 256-bucket histogram finds the cut in linear time instead of a sort.
    float mx = 0.f;
    double total = 0;
    for (uint32_t t : s.summary_touched) {
      mx = std::max(mx, s.summary[t]);
      total += s.summary[t];
    }
    const float scale = mx / 255.f;
    double mass[256] = {};
    for (uint32_t t : s.summary_touched) mass[std::clamp<long>(std::lround(s.summary[t] / scale), 1, 255)] += s.summary[t];
    long cut = 255;
    for (double acc = mass[255]; cut > 1 && acc < p.summary_energy * total;) acc += mass[--cut];
    ents.clear();
    for (uint32_t t : s.summary_touched) {
      long q = std::clamp<long>(std::lround(s.summary[t] / scale), 1, 255);
      if (q >= cut) ents.emplace_back(t, static_cast<float>(q));
      s.summary[t] = 0.f;
    }
    std::sort(ents.begin(), ents.end(), [](auto& a, auto& b) { return a.first < b.first; });
    out.scales.push_back(scale);
    out.sum_sizes.push_back(static_cast<uint32_t>(ents.size()));
    for (auto& e : ents) {
      out.sum_terms.push_back(e.first);
      out.sum_values.push_back(static_cast<uint8_t>(e.second));
    }
    i = j;
  }
}

using Layout = SectionLayout<sizeof(Header), kSectionCount>;

template <typename T>
void put(OwnedImage& img, const Layout& L, Section s, const T* src, uint64_t count) {
  if (count) std::memcpy(img.mutable_data() + L.off[s], src, count * sizeof(T));
}

}  // namespace

// Seal: fill the header, checksum every section, then the header itself.
static void finalize_header(OwnedImage& img, const Layout& L, Header h) {
  std::memcpy(h.magic, kMagic, 8);
  h.version = kFormatVersion;
  h.section_count = kSectionCount;
  for (uint32_t s = 0; s < kSectionCount; ++s) {
    h.sections[s].offset = L.off[s];
    h.sections[s].length = L.len[s];
    h.sections[s].crc32c = crc32c(img.data() + L.off[s], L.len[s]);
    h.sections[s].reserved = 0;
  }
  h.header_crc32c = crc32c(&h, offsetof(Header, header_crc32c));
  std::memcpy(img.mutable_data(), &h, sizeof(Header));
}

std::shared_ptr<Segment> build_segment(const BuildInput& in, const BuildParams& p) {
  const uint32_t n = in.n_docs, V = in.vocab;
  const uint32_t threads = std::max<uint32_t>(1, p.threads);
  Forward f = normalize(in, threads);
  Inverted inv = invert(f, n, V);
  const uint64_t nnz = f.terms.size();

  const bool approx = p.approx.postings > 0 && n > 0;
  std::vector<TermBlocks> tb;
  if (approx) {
    Sketches sk = p.approx.blocks ? make_sketches(f, n, threads) : Sketches{};
    tb.resize(V);
    std::vector<std::unique_ptr<BlockScratch>> scratch(threads);
    // Interleave terms across workers: the heavy (frequent) terms are spread over the id space.
    parallel_chunks(V, threads, 64, [&](uint32_t w, uint64_t b, uint64_t e) {
      if (!scratch[w]) scratch[w] = std::make_unique<BlockScratch>(V);
      for (uint64_t t = b; t < e; ++t) build_term_blocks(uint32_t(t), inv, f, sk, p.approx, *scratch[w], tb[t]);
    });
  }
  uint64_t n_blocks = 0, n_block_docs = 0, n_sum = 0, n_pruned = 0;
  for (auto& t : tb) {
    n_pruned += t.pruned_docs.size();
    n_blocks += t.block_sizes.size();
    n_block_docs += t.docs.size();
    n_sum += t.sum_terms.size();
  }

  Layout L;
  L.len[kDocnos] = 4ull * n;
  L.len[kFwdOffsets] = 8ull * (n + 1);
  L.len[kFwdTerms] = 4 * nnz;
  L.len[kFwdWeights] = 4 * nnz;
  L.len[kInvOffsets] = 8ull * (V + 1);
  L.len[kInvDocs] = 4 * nnz;
  L.len[kInvWeights] = (p.quantize_u8 ? 1 : 4) * nnz;
  L.len[kTermMax] = 4ull * V;
  const bool blocks = approx && p.approx.blocks;
  if (blocks) {
    L.len[kBlkTermOffsets] = 8ull * (V + 1);
    L.len[kBlkDocOffsets] = 8 * (n_blocks + 1);
    L.len[kBlkDocs] = 4 * n_block_docs;
    L.len[kSumOffsets] = 8 * (n_blocks + 1);
    L.len[kSumTerms] = 4 * n_sum;
    L.len[kSumValues] = n_sum;
    L.len[kSumScale] = 4 * n_blocks;
  }
  if (approx) {
    L.len[kPrunedOffsets] = 8ull * (V + 1);
    L.len[kPrunedDocs] = 4 * n_pruned;
    L.len[kPrunedWeights] = 4 * n_pruned;
  }
  L.place();
  auto img = std::make_unique<OwnedImage>(L.total);

  put(*img, L, kDocnos, in.docnos, n);
  put(*img, L, kFwdOffsets, f.offsets.data(), f.offsets.size());
  put(*img, L, kFwdTerms, f.terms.data(), nnz);
  put(*img, L, kFwdWeights, f.weights.data(), nnz);
  put(*img, L, kInvOffsets, inv.offsets.data(), inv.offsets.size());
  put(*img, L, kInvDocs, inv.docs.data(), nnz);
  put(*img, L, kTermMax, inv.term_max.data(), V);
  if (p.quantize_u8) {
    auto* q = img->mutable_data() + L.off[kInvWeights];
    for (uint32_t t = 0; t < V; ++t) {
      const float scale = inv.term_max[t] / 255.f;
      for (uint64_t i = inv.offsets[t]; i < inv.offsets[t + 1]; ++i)
        q[i] = static_cast<uint8_t>(std::clamp<long>(std::lround(inv.weights[i] / scale), 1, 255));
    }
  } else {
    put(*img, L, kInvWeights, inv.weights.data(), nnz);
  }
  if (approx) {
    auto* po = reinterpret_cast<uint64_t*>(img->mutable_data() + L.off[kPrunedOffsets]);
    auto* pd = reinterpret_cast<uint32_t*>(img->mutable_data() + L.off[kPrunedDocs]);
    auto* pw = reinterpret_cast<float*>(img->mutable_data() + L.off[kPrunedWeights]);
    auto* bto = reinterpret_cast<uint64_t*>(img->mutable_data() + L.off[kBlkTermOffsets]);
    auto* bdo = reinterpret_cast<uint64_t*>(img->mutable_data() + L.off[kBlkDocOffsets]);
    auto* bd = reinterpret_cast<uint32_t*>(img->mutable_data() + L.off[kBlkDocs]);
    auto* so = reinterpret_cast<uint64_t*>(img->mutable_data() + L.off[kSumOffsets]);
    auto* st = reinterpret_cast<uint32_t*>(img->mutable_data() + L.off[kSumTerms]);
    auto* sv = img->mutable_data() + L.off[kSumValues];
    auto* ss = reinterpret_cast<float*>(img->mutable_data() + L.off[kSumScale]);
    po[0] = 0;
    if (blocks) bto[0] = bdo[0] = so[0] = 0;
    uint64_t b = 0, dpos = 0, spos = 0;
    for (uint32_t t = 0; t < V; ++t) {
      TermBlocks& x = tb[t];
      std::memcpy(pd + po[t], x.pruned_docs.data(), x.pruned_docs.size() * 4);
      std::memcpy(pw + po[t], x.pruned_weights.data(), x.pruned_weights.size() * 4);
      po[t + 1] = po[t] + x.pruned_docs.size();
      if (blocks) {
        std::memcpy(bd + dpos, x.docs.data(), x.docs.size() * 4);
        std::memcpy(st + spos, x.sum_terms.data(), x.sum_terms.size() * 4);
        std::memcpy(sv + spos, x.sum_values.data(), x.sum_values.size());
        for (size_t i = 0; i < x.block_sizes.size(); ++i) {
          dpos += x.block_sizes[i];
          spos += x.sum_sizes[i];
          ss[b] = x.scales[i];
          ++b;
          bdo[b] = dpos;
          so[b] = spos;
        }
        bto[t + 1] = b;
      }
      x = TermBlocks{};  // release as we go: the image already holds a copy
    }
  }
  Header h{};
  h.flags = (p.quantize_u8 ? uint32_t{kQuantU8} : 0u) | (approx ? uint32_t{kHasApprox} : 0u) | (blocks ? uint32_t{kHasBlocks} : 0u);
  h.n_docs = n;
  h.vocab = V;
  h.nnz = nnz;
  h.n_blocks = n_blocks;
  h.approx_postings = approx ? p.approx.postings : 0;
  h.approx_block_ratio = p.approx.block_ratio;
  h.approx_summary_energy = p.approx.summary_energy;
  finalize_header(*img, L, h);
  return std::make_shared<Segment>(std::move(img));
}

std::shared_ptr<Segment> merge_segments(const std::vector<std::shared_ptr<Segment>>& segs,
                                        const BuildParams& p) {
  // Gather live documents in global docno order (segments may interleave after earlier merges).
  struct Ref { uint32_t docno; uint32_t seg; uint32_t local; };
  std::vector<Ref> refs;
  uint32_t vocab = 0;
  for (uint32_t s = 0; s < segs.size(); ++s) {
    vocab = std::max(vocab, segs[s]->vocab());
    const uint32_t* dn = segs[s]->docnos();
    for (uint32_t i = 0; i < segs[s]->n_docs(); ++i)
      if (!segs[s]->is_deleted(i)) refs.push_back({dn[i], s, i});
  }
  std::sort(refs.begin(), refs.end(), [](const Ref& a, const Ref& b) { return a.docno < b.docno; });
  std::vector<uint32_t> docnos(refs.size());
  std::vector<uint64_t> offsets(refs.size() + 1, 0);
  for (size_t i = 0; i < refs.size(); ++i) {
    const auto* fo = segs[refs[i].seg]->sec<uint64_t>(kFwdOffsets);
    docnos[i] = refs[i].docno;
    offsets[i + 1] = offsets[i] + (fo[refs[i].local + 1] - fo[refs[i].local]);
  }
  std::vector<uint32_t> terms(offsets.back());
  std::vector<float> weights(offsets.back());
  for (size_t i = 0; i < refs.size(); ++i) {
    const Segment& s = *segs[refs[i].seg];
    const auto* fo = s.sec<uint64_t>(kFwdOffsets);
    uint64_t a = fo[refs[i].local], len = fo[refs[i].local + 1] - a;
    std::memcpy(terms.data() + offsets[i], s.sec<uint32_t>(kFwdTerms) + a, len * 4);
    std::memcpy(weights.data() + offsets[i], s.sec<float>(kFwdWeights) + a, len * 4);
  }
  BuildInput in{docnos.data(), static_cast<uint32_t>(refs.size()), offsets.data(), terms.data(), weights.data(), vocab};
  return build_segment(in, p);
}

}  // namespace lsr::sparse
