// Segment construction: normalize documents, invert them, choose each term's pruned list (its
// heaviest postings) and, on request, the blocked, summarized lists of the `blocks` strategy, then
// lay everything out in one image: the forward index in 16-bit ids where the vocabulary allows,
// the inverted lists in per-window runs of 16-bit ids with the pruned postings at each run's start.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <numeric>
#include <stdexcept>

#include "common/crc32c.h"
#include "common/half.h"
#include "common/image.h"
#include "common/parallel.h"
#include "common/segment-file.h"
#include "sparse/forward.h"
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

// Sort each document's entries by term, merge duplicates with max, drop non-positive weights, and
// with `f16` round every weight to half precision here, so that every structure (inverted lists,
// pruned lists, block summaries, the forward index) holds the same values.
Forward normalize(const BuildInput& in, uint32_t threads, bool f16) {
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
    if (f16)
      for (float& w : f.weights) w = round_weight_f16(w);
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

// Positions (relative to the term's first posting) of the term's `postings` heaviest postings,
// ascending; ties in weight keep the earlier (lower doc id) posting. These are the pruned list.
std::vector<uint32_t> heaviest(uint32_t term, const Inverted& inv, uint32_t postings) {
  const uint64_t lo = inv.offsets[term], hi = inv.offsets[term + 1];
  const uint32_t len = static_cast<uint32_t>(hi - lo);
  std::vector<uint32_t> kept(len);
  std::iota(kept.begin(), kept.end(), 0);
  if (len > postings) {
    std::nth_element(kept.begin(), kept.begin() + postings, kept.end(), [&](uint32_t a, uint32_t b) {
      float wa = inv.weights[lo + a], wb = inv.weights[lo + b];
      return wa != wb ? wa > wb : a < b;
    });
    kept.resize(postings);
    std::sort(kept.begin(), kept.end());
  }
  return kept;
}

// Seismic-style blocks for one term's pruned list (`kept`: its local doc ids, ascending): cluster
// the documents around randomly chosen centroid documents (shallow k-means, one assignment round,
// on sketches), then summarize each cluster by the component-wise max of its documents pruned to
// `energy` of its L1 mass and quantized to u8.
void build_term_blocks(uint32_t term, std::vector<uint32_t> kept, const Forward& f, const Sketches& sk,
                       const ApproxParams& p, BlockScratch& s, TermBlocks& out) {
  if (kept.empty()) return;
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
  Forward f = normalize(in, threads, p.weights_f16);
  Inverted inv = invert(f, n, V);
  const uint64_t nnz = f.terms.size();

  // Pruned lists: a mark on each posting that belongs to its term's heaviest `postings`; blocks
  // cluster those postings' documents.
  const bool approx = p.approx.postings > 0 && n > 0;
  const bool blocks = approx && p.approx.blocks;
  std::vector<uint8_t> heavy(approx ? nnz : 0, 0);
  std::vector<TermBlocks> tb(blocks ? V : 0);
  if (approx) {
    Sketches sk = blocks ? make_sketches(f, n, threads) : Sketches{};
    std::vector<std::unique_ptr<BlockScratch>> scratch(threads);
    // Interleave terms across workers: the heavy (frequent) terms are spread over the id space.
    parallel_chunks(V, threads, 64, [&](uint32_t w, uint64_t b, uint64_t e) {
      for (uint64_t t = b; t < e; ++t) {
        std::vector<uint32_t> kept = heaviest(uint32_t(t), inv, p.approx.postings);
        const uint64_t lo = inv.offsets[t];
        for (uint32_t k : kept) heavy[lo + k] = 1;
        if (!blocks || kept.empty()) continue;
        if (!scratch[w]) scratch[w] = std::make_unique<BlockScratch>(V);
        for (auto& k : kept) k = inv.docs[lo + k];  // local doc ids, still ascending
        build_term_blocks(uint32_t(t), std::move(kept), f, sk, p.approx, *scratch[w], tb[t]);
      }
    });
  }
  uint64_t n_blocks = 0, n_block_docs = 0, n_sum = 0;
  for (auto& t : tb) {
    n_blocks += t.block_sizes.size();
    n_block_docs += t.docs.size();
    n_sum += t.sum_terms.size();
  }
  // Runs: one per (term, window of 65,536 documents) holding the term.
  std::vector<uint64_t> run_offsets(uint64_t(V) + 1, 0);
  for (uint32_t t = 0; t < V; ++t) {
    uint64_t runs = 0;
    uint32_t last = UINT32_MAX;
    for (uint64_t i = inv.offsets[t]; i < inv.offsets[t + 1]; ++i) {
      const uint32_t w = inv.docs[i] >> kWindowBits;
      if (w != last) ++runs, last = w;
    }
    run_offsets[t + 1] = run_offsets[t] + runs;
  }
  const uint64_t n_runs = run_offsets[V];
  const bool terms16 = V <= 65536;

  Layout L;
  L.len[kDocnos] = 4ull * n;
  L.len[kFwdOffsets] = 8ull * (n + 1);
  L.len[kFwdTerms] = (terms16 ? 2 : 4) * nnz;
  L.len[kFwdWeights] = (p.weights_f16 ? 2 : 4) * nnz;
  L.len[kInvOffsets] = 8ull * (V + 1);
  L.len[kRunOffsets] = 8ull * (V + 1);
  L.len[kRunWindows] = 4 * n_runs;
  L.len[kRunEnds] = 4 * n_runs;
  L.len[kRunHeavy] = approx ? 4 * n_runs : 0;
  L.len[kInvDocs] = 2 * nnz;
  L.len[kInvWeights] = (p.quantize_u8 ? 1 : 4) * nnz;
  L.len[kTermMax] = 4ull * V;
  L.len[kTermErr] = p.quantize_u8 ? 4ull * V : 0;
  if (blocks) {
    L.len[kBlkTermOffsets] = 8ull * (V + 1);
    L.len[kBlkDocOffsets] = 8 * (n_blocks + 1);
    L.len[kBlkDocs] = 4 * n_block_docs;
    L.len[kSumOffsets] = 8 * (n_blocks + 1);
    L.len[kSumTerms] = 4 * n_sum;
    L.len[kSumValues] = n_sum;
    L.len[kSumScale] = 4 * n_blocks;
  }
  L.place();
  auto img = std::make_unique<OwnedImage>(L.total);
  uint8_t* base = img->mutable_data();

  // Forward index, then its build copy goes: the image holds it.
  put(*img, L, kDocnos, in.docnos, n);
  put(*img, L, kFwdOffsets, f.offsets.data(), f.offsets.size());
  if (terms16) {
    auto* ft = reinterpret_cast<uint16_t*>(base + L.off[kFwdTerms]);
    for (uint64_t i = 0; i < nnz; ++i) ft[i] = static_cast<uint16_t>(f.terms[i]);
  } else {
    put(*img, L, kFwdTerms, f.terms.data(), nnz);
  }
  if (p.weights_f16) {
    auto* fw = reinterpret_cast<uint16_t*>(base + L.off[kFwdWeights]);
    for (uint64_t i = 0; i < nnz; ++i) fw[i] = f32_to_f16(f.weights[i]);  // exact: already rounded
  } else {
    put(*img, L, kFwdWeights, f.weights.data(), nnz);
  }
  if (blocks) {
    auto* bto = reinterpret_cast<uint64_t*>(base + L.off[kBlkTermOffsets]);
    auto* bdo = reinterpret_cast<uint64_t*>(base + L.off[kBlkDocOffsets]);
    auto* bd = reinterpret_cast<uint32_t*>(base + L.off[kBlkDocs]);
    auto* so = reinterpret_cast<uint64_t*>(base + L.off[kSumOffsets]);
    auto* st = reinterpret_cast<uint32_t*>(base + L.off[kSumTerms]);
    auto* sv = base + L.off[kSumValues];
    auto* ss = reinterpret_cast<float*>(base + L.off[kSumScale]);
    bto[0] = bdo[0] = so[0] = 0;
    uint64_t b = 0, dpos = 0, spos = 0;
    for (uint32_t t = 0; t < V; ++t) {
      TermBlocks& x = tb[t];
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
      x = TermBlocks{};  // release as we go: the image already holds a copy
    }
  }
  f = Forward{};

  // Inverted runs: each term's postings window by window; inside a run the pruned (heavy) postings
  // first, then the rest, each by ascending doc id. Terms write disjoint ranges, so in parallel.
  put(*img, L, kInvOffsets, inv.offsets.data(), inv.offsets.size());
  put(*img, L, kRunOffsets, run_offsets.data(), run_offsets.size());
  put(*img, L, kTermMax, inv.term_max.data(), V);
  auto* rwin = reinterpret_cast<uint32_t*>(base + L.off[kRunWindows]);
  auto* rend = reinterpret_cast<uint32_t*>(base + L.off[kRunEnds]);
  auto* rheavy = approx ? reinterpret_cast<uint32_t*>(base + L.off[kRunHeavy]) : nullptr;
  auto* ids = reinterpret_cast<uint16_t*>(base + L.off[kInvDocs]);
  auto* wf = p.quantize_u8 ? nullptr : reinterpret_cast<float*>(base + L.off[kInvWeights]);
  auto* wq = p.quantize_u8 ? base + L.off[kInvWeights] : nullptr;
  auto* terr = p.quantize_u8 ? reinterpret_cast<float*>(base + L.off[kTermErr]) : nullptr;
  parallel_chunks(V, threads, 256, [&](uint32_t, uint64_t tb_, uint64_t te) {
    for (uint64_t t = tb_; t < te; ++t) {
      const uint64_t lo = inv.offsets[t], hi = inv.offsets[t + 1];
      const float scale = inv.term_max[t] / 255.f;
      float err = 0.f;
      uint64_t r = run_offsets[t], out = lo;
      auto emit = [&](uint64_t i) {
        ids[out] = static_cast<uint16_t>(inv.docs[i] & 0xffffu);
        if (wq) {
          // Never 0: a posting keeps its document reachable at the term's smallest impact.
          const long v = std::clamp<long>(std::lround(inv.weights[i] / scale), 1, 255);
          wq[out] = static_cast<uint8_t>(v);
          err = std::max(err, std::fabs(inv.weights[i] - static_cast<float>(v) * scale));
        } else {
          wf[out] = inv.weights[i];
        }
        ++out;
      };
      for (uint64_t g = lo; g < hi;) {
        const uint32_t w = inv.docs[g] >> kWindowBits;
        uint64_t h = g;
        while (h < hi && (inv.docs[h] >> kWindowBits) == w) ++h;
        uint32_t nheavy = 0;
        if (approx) {
          for (uint64_t i = g; i < h; ++i)
            if (heavy[i]) emit(i), ++nheavy;
          for (uint64_t i = g; i < h; ++i)
            if (!heavy[i]) emit(i);
          rheavy[r] = nheavy;
        } else {
          for (uint64_t i = g; i < h; ++i) emit(i);
        }
        rwin[r] = w;
        rend[r] = static_cast<uint32_t>(out - lo);
        ++r;
        g = h;
      }
      if (terr) terr[t] = err;
    }
  });

  Header h{};
  h.flags = (p.quantize_u8 ? uint32_t{kQuantU8} : 0u) | (approx ? uint32_t{kHasApprox} : 0u) |
            (blocks ? uint32_t{kHasBlocks} : 0u) | (terms16 ? uint32_t{kFwdTerms16} : 0u) |
            (p.weights_f16 ? uint32_t{kFwdF16} : 0u);
  h.n_docs = n;
  h.vocab = V;
  h.nnz = nnz;
  h.n_blocks = n_blocks;
  h.n_runs = n_runs;
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
  std::vector<ForwardView> views;
  for (uint32_t s = 0; s < segs.size(); ++s) {
    vocab = std::max(vocab, segs[s]->vocab());
    views.emplace_back(*segs[s]);
    const uint32_t* dn = segs[s]->docnos();
    for (uint32_t i = 0; i < segs[s]->n_docs(); ++i)
      if (!segs[s]->is_deleted(i)) refs.push_back({dn[i], s, i});
  }
  std::sort(refs.begin(), refs.end(), [](const Ref& a, const Ref& b) { return a.docno < b.docno; });
  std::vector<uint32_t> docnos(refs.size());
  std::vector<uint64_t> offsets(refs.size() + 1, 0);
  for (size_t i = 0; i < refs.size(); ++i) {
    docnos[i] = refs[i].docno;
    offsets[i + 1] = offsets[i] + views[refs[i].seg].length(refs[i].local);
  }
  std::vector<uint32_t> terms(offsets.back());
  std::vector<float> weights(offsets.back());
  for (size_t i = 0; i < refs.size(); ++i)
    views[refs[i].seg].read(refs[i].local, terms.data() + offsets[i], weights.data() + offsets[i]);
  BuildInput in{docnos.data(), static_cast<uint32_t>(refs.size()), offsets.data(), terms.data(), weights.data(), vocab};
  return build_segment(in, p);
}

}  // namespace lsr::sparse
