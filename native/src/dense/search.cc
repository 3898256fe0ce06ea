#include "dense/search.h"

#include <algorithm>
#include <cstring>
#include <queue>

#include "dense/kernels.h"

#if defined(__x86_64__)
#include "../common/simd.h"
#endif

namespace lsr::dense {

namespace {

// A filter that keeps fewer than this share of a segment's documents sends the approximate walk
// to an exact scan of the allowed rows: the graph walk would visit on the order of ef / share
// nodes to find ef allowed ones, more than scoring the few allowed rows directly.
constexpr double kExactBelowShare = 0.05;

inline bool allowed(const SearchParams& p, uint32_t docno) {
  if (!p.filter) return true;
  if (docno >= p.filter_bits) return false;
  return (p.filter[docno >> 3] >> (docno & 7)) & 1;
}

struct Scratch {
  std::vector<float> q;  // the query, zero-padded to the stride
  std::vector<uint32_t> stamp;
  uint32_t epoch = 0;
  std::vector<uint32_t> ids;  // unvisited neighbours of the node being expanded
  std::vector<float> scores;
  static Scratch& local() {
    thread_local Scratch s;
    return s;
  }
  const float* pad(const float* q_in, uint32_t dim, uint32_t stride) {
    q.assign(stride, 0.f);
    std::memcpy(q.data(), q_in, 4ull * dim);
    return q.data();
  }
  uint32_t next_epoch(uint32_t n) {
    if (stamp.size() < n) stamp.assign(n, 0), epoch = 0;
    if (++epoch == 0) std::fill(stamp.begin(), stamp.end(), 0), epoch = 1;
    return epoch;
  }
};

void exact(const Segment& s, const float* q, const SearchParams& p, TopK& top) {
  const uint32_t n = s.n_docs();
  const uint32_t* docnos = s.docnos();
  const bool check = p.filter || s.deleted_count() > 0;
  uint32_t ids[4];
  float v[4];
  uint32_t m = 0;
  // >= keeps ties with the threshold: a lower docno may still enter.
  auto offer = [&](uint32_t local, float score) {
    if (!top.full() || score >= top.threshold()) top.push({score, docnos[local]});
  };
  for (uint32_t i = 0; i < n; ++i) {
    if (check && (s.is_deleted(i) || !allowed(p, docnos[i]))) continue;
    ids[m++] = i;
    if (m == 4) {
      s.score4(q, ids, v);
      for (uint32_t j = 0; j < 4; ++j) offer(ids[j], v[j]);
      m = 0;
    }
  }
  for (uint32_t j = 0; j < m; ++j) offer(ids[j], s.score(q, ids[j]));
}

// Share of the segment's docno range the filter allows (an estimate of the share of its rows).
double filter_share(const Segment& s, const SearchParams& p) {
  if (!p.filter) return 1.0;
  const uint64_t lo = s.docnos()[0], hi = std::min<uint64_t>(s.docnos()[s.n_docs() - 1] + 1, p.filter_bits);
  if (hi <= lo) return 0.0;
  uint64_t count = 0;
  for (uint64_t d = lo; d < hi;) {
    if ((d & 7) == 0 && d + 8 <= hi) {
      count += __builtin_popcount(p.filter[d >> 3]);
      d += 8;
    } else {
      count += (p.filter[d >> 3] >> (d & 7)) & 1;
      ++d;
    }
  }
  return double(count) / double(hi - lo);
}

inline void prefetch_row(const Segment& s, uint32_t local) {
#if defined(__x86_64__)
  const char* r = s.int8() ? reinterpret_cast<const char*>(s.row_i8(local)) : reinterpret_cast<const char*>(s.row_f32(local));
  _mm_prefetch(r, _MM_HINT_T0);
  _mm_prefetch(r + 64, _MM_HINT_T0);
#endif
}

inline void prefetch_links(const Segment& s, uint32_t local) {
#if defined(__x86_64__)
  _mm_prefetch(reinterpret_cast<const char*>(s.links0(local)), _MM_HINT_T0);
#endif
}

using Cand = std::pair<float, uint32_t>;

// Greedy descent through the upper levels, then a best-first walk of level 0 that navigates through
// every node but lets only live, allowed ones into the result list (as hnswlib's filtered search):
// deleted and filtered-out documents still connect the graph.
void graph(const Segment& s, const float* q, const SearchParams& p, Scratch& sc, TopK& top) {
  const Header& h = s.header();
  Cand cur{s.score(q, h.hnsw_entry), h.hnsw_entry};
  for (uint32_t lvl = h.hnsw_max_level; lvl > 0; --lvl) {
    for (bool changed = true; changed;) {
      changed = false;
      const uint32_t* l = s.links(cur.second, lvl);
      for (uint32_t i = 1; i <= l[0]; ++i) {
        const float v = s.score(q, l[i]);
        if (v > cur.first) cur = {v, l[i]}, changed = true;
      }
    }
  }
  const uint32_t ef = std::max(p.ef, top.k());
  const uint32_t epoch = sc.next_epoch(s.n_docs());
  const uint32_t* docnos = s.docnos();
  sc.ids.resize(2 * h.hnsw_m);
  sc.scores.resize(2 * h.hnsw_m);
  auto accepted = [&](uint32_t local) { return !s.is_deleted(local) && allowed(p, docnos[local]); };
  std::priority_queue<Cand> cand;
  std::priority_queue<Cand, std::vector<Cand>, std::greater<Cand>> res;
  cand.push(cur);
  sc.stamp[cur.second] = epoch;
  if (accepted(cur.second)) res.push(cur);
  while (!cand.empty()) {
    const Cand c = cand.top();
    if (res.size() >= ef && c.first < res.top().first) break;
    cand.pop();
    // The next node to expand is most likely the new best candidate: fetch its links while this
    // node's neighbours are scored (links live apart from rows, so this miss is not otherwise
    // hidden; measured +10-20% queries per second at ef 64-256).
    if (!cand.empty()) prefetch_links(s, cand.top().second);
    const uint32_t* l = s.links0(c.second);
    uint32_t fresh = 0;
    for (uint32_t i = 1; i <= l[0]; ++i)
      if (sc.stamp[l[i]] != epoch) {
        sc.stamp[l[i]] = epoch;
        sc.ids[fresh++] = l[i];
        prefetch_row(s, l[i]);
      }
    s.score_many(q, sc.ids.data(), fresh, sc.scores.data());
    for (uint32_t i = 0; i < fresh; ++i) {
      const uint32_t nb = sc.ids[i];
      const float v = sc.scores[i];
      if (res.size() < ef || v > res.top().first) {
        cand.push({v, nb});
        if (accepted(nb)) {
          res.push({v, nb});
          if (res.size() > ef) res.pop();
        }
      }
    }
  }
  for (; !res.empty(); res.pop()) top.push({res.top().first, docnos[res.top().second]});
}

void search_segment(const Segment& s, const float* q, const SearchParams& p, Scratch& sc, TopK& top) {
  if (s.n_docs() == 0 || s.deleted_count() == s.n_docs()) return;
  if (p.approx && s.has_graph() && filter_share(s, p) >= kExactBelowShare) graph(s, q, p, sc, top);
  else exact(s, q, p, top);
}

}  // namespace

std::vector<Hit> dense_search(const std::vector<std::shared_ptr<Segment>>& segs, const float* q, const SearchParams& p) {
  TopK top(p.k);
  if (segs.empty()) return {};
  Scratch& sc = Scratch::local();
  const float* qp = sc.pad(q, segs[0]->dim(), segs[0]->stride());
  for (const auto& s : segs) search_segment(*s, qp, p, sc, top);
  return top.sorted();
}

void search_exact_block(const std::vector<std::shared_ptr<Segment>>& segs, const float* const* qs, uint32_t nq,
                        const SearchParams& p, std::vector<Hit>* out) {
  if (segs.empty()) {
    for (uint32_t j = 0; j < nq; ++j) out[j].clear();
    return;
  }
  const uint32_t dim = segs[0]->dim(), stride = segs[0]->stride();
  std::vector<float> padded(uint64_t(nq) * stride, 0.f);
  for (uint32_t j = 0; j < nq; ++j) std::memcpy(padded.data() + uint64_t(j) * stride, qs[j], 4ull * dim);
  std::vector<TopK> tops(nq, TopK(p.k));
  for (const auto& sp : segs) {
    const Segment& s = *sp;
    const uint32_t n = s.n_docs();
    if (n == 0 || s.deleted_count() == n) continue;
    const uint32_t* docnos = s.docnos();
    const bool check = p.filter || s.deleted_count() > 0;
    const Kernels& kn = kernels();
    std::vector<float> decoded(stride);
    for (uint32_t i = 0; i < n; ++i) {
      if (check && (s.is_deleted(i) || !allowed(p, docnos[i]))) continue;
      // The row plays the query's part against four queries at a time. For i8 the row is widened
      // to float without its scale, so each product is the single-query kernel's q * float(x)
      // (multiplication commutes exactly) and the scale is applied last, as there.
      const float* row = s.row_f32(i);
      float scale = 1.f;
      if (s.int8()) {
        const int8_t* r8 = s.row_i8(i);
        for (uint32_t c = 0; c < stride; ++c) decoded[c] = static_cast<float>(r8[c]);
        row = decoded.data();
        scale = s.scale(i);
      }
      uint32_t j = 0;
      float v[4];
      for (; j + 4 <= nq; j += 4) {
        const float* qq[4] = {padded.data() + uint64_t(j) * stride, padded.data() + uint64_t(j + 1) * stride,
                              padded.data() + uint64_t(j + 2) * stride, padded.data() + uint64_t(j + 3) * stride};
        kn.dot4_f32(row, qq, stride, v);
        for (uint32_t t = 0; t < 4; ++t) {
          const float sc = s.int8() ? v[t] * scale : v[t];
          if (!tops[j + t].full() || sc >= tops[j + t].threshold()) tops[j + t].push({sc, docnos[i]});
        }
      }
      for (; j < nq; ++j) {
        const float sc = s.score(padded.data() + uint64_t(j) * stride, i);
        if (!tops[j].full() || sc >= tops[j].threshold()) tops[j].push({sc, docnos[i]});
      }
    }
  }
  for (uint32_t j = 0; j < nq; ++j) out[j] = tops[j].sorted();
}

}  // namespace lsr::dense
