// Exact top-k: term-at-a-time accumulation into a dense per-document array, then one SIMD pass
// that selects the candidates above the current k-th score and clears the array for the next query.
// With u8 impacts the pass keeps every document within the quantization bound of the k-th score
// and re-scores those from the forward index, so the result is still exact.
// On learned-sparse vectors (long, weighted queries, no stopword-like skew in the impacts) this
// beats document-at-a-time dynamic pruning (see docs/engine.md for the measurements).
#include <cmath>
#include <cstring>

#include "common/cpu.h"
#include "sparse/forward.h"
#include "sparse/search.h"

#if defined(__x86_64__)
#include "../common/simd.h"
#endif

namespace lsr::sparse {

Scratch& Scratch::local() {
  thread_local Scratch s;
  return s;
}

Query normalize_query(const uint32_t* terms, const float* weights, size_t n) {
  std::vector<std::pair<uint32_t, float>> v;
  v.reserve(n);
  for (size_t i = 0; i < n; ++i) v.emplace_back(terms[i], weights[i]);
  std::sort(v.begin(), v.end(), [](auto& a, auto& b) { return a.first < b.first; });
  Query q;
  for (size_t i = 0; i < v.size();) {
    size_t j = i;
    float w = 0;
    while (j < v.size() && v[j].first == v[i].first) w += v[j++].second;
    if (w > 0.f) {
      q.terms.push_back(v[i].first);
      q.weights.push_back(w);
    }
    i = j;
  }
  return q;
}

namespace {

template <typename W>
void accumulate(const uint16_t* ids, const W* w, uint64_t n, float mult, float* acc) {
  for (uint64_t i = 0; i < n; ++i) acc[ids[i]] += mult * static_cast<float>(w[i]);
}

// Every posting of the query's terms, run by run (a run's ids are offsets into its window).
void accumulate_all(const Segment& s, const Query& q, float* acc) {
  const uint64_t* off = s.sec<uint64_t>(kInvOffsets);
  const uint64_t* ro = s.sec<uint64_t>(kRunOffsets);
  const uint32_t* rwin = s.sec<uint32_t>(kRunWindows);
  const uint32_t* rend = s.sec<uint32_t>(kRunEnds);
  const uint16_t* ids = s.sec<uint16_t>(kInvDocs);
  const float* tmax = s.sec<float>(kTermMax);
  for (size_t i = 0; i < q.terms.size(); ++i) {
    const uint32_t t = q.terms[i];
    if (t >= s.vocab()) continue;
    const uint64_t a = off[t];
    uint32_t start = 0;
    for (uint64_t r = ro[t]; r < ro[t + 1]; ++r) {
      float* win = acc + (uint64_t(rwin[r]) << kWindowBits);
      const uint32_t end = rend[r];
      if (s.quantized())
        accumulate(ids + a + start, s.sec<uint8_t>(kInvWeights) + a + start, end - start, q.weights[i] * tmax[t] / 255.f, win);
      else
        accumulate(ids + a + start, s.sec<float>(kInvWeights) + a + start, end - start, q.weights[i], win);
      start = end;
    }
  }
}

bool any_postings(const Segment& s, const Query& q) {
  const uint64_t* off = s.sec<uint64_t>(kInvOffsets);
  for (uint32_t t : q.terms)
    if (t < s.vocab() && off[t] != off[t + 1]) return true;
  return false;
}

// f32 impacts: an accumulator is the document's exact score; the k best go straight to `top`.
struct ExactSink {
  const Segment& s;
  const SearchParams& p;
  TopK& top;
  // Candidates must reach this (and be > 0): ties with the threshold stay, a lower docno may enter.
  float bar() const { return top.full() ? top.threshold() : 0.f; }
  void take(uint32_t local, float v) {
    if (top.full() && v < top.threshold()) return;
    if (s.is_deleted(local)) return;
    const uint32_t docno = s.docnos()[local];
    if (allowed(p, docno)) top.push({v, docno});
  }
};

// u8 impacts: an accumulator is within `err` of the exact score. A document can be in the exact
// top k only if its accumulator reaches (k-th best accumulator) - 2 err, or (k-th exact score
// already held from earlier segments) - err; those candidates are kept and re-scored exactly.
struct BoundedSink {
  const Segment& s;
  const SearchParams& p;
  const TopK& top;
  float err;
  TopK sel;
  std::vector<Hit>& cands;  // (accumulator, local id)
  float bar() const {
    float b = sel.full() ? sel.threshold() - 2.f * err : 0.f;
    if (top.full()) b = std::max(b, top.threshold() - err);
    return b;
  }
  void take(uint32_t local, float v) {
    if (v < bar() || s.is_deleted(local) || !allowed(p, s.docnos()[local])) return;
    sel.push({v, local});
    cands.push_back({v, local});
    if (cands.size() >= 4 * size_t(sel.k()) + 4096) compact();
  }
  void compact() {
    const float b = bar();
    cands.erase(std::remove_if(cands.begin(), cands.end(), [b](const Hit& h) { return h.score < b; }), cands.end());
  }
};

// Scalar selection: every document with a positive accumulator competes; the array is cleared.
template <class Sink>
void select_scalar(float* acc, uint32_t from, uint32_t n, Sink& sink) {
  for (uint32_t i = from; i < n; ++i) {
    float v = acc[i];
    if (v > 0.f) {
      acc[i] = 0.f;
      if (v >= sink.bar()) sink.take(i, v);
    }
  }
}

#if defined(__x86_64__)
template <class Sink>
__attribute__((target("avx512f,avx512bw,avx512vl,avx512dq")))
void select_avx512(float* acc, uint32_t n, Sink& sink) {
  const __m512 zero = _mm512_setzero_ps();
  uint32_t i = 0;
  for (; i + 16 <= n; i += 16) {
    __m512 v = _mm512_loadu_ps(acc + i);
    __mmask16 nz = _mm512_cmp_ps_mask(v, zero, _CMP_GT_OQ);
    if (!nz) continue;
    _mm512_storeu_ps(acc + i, zero);
    __mmask16 m = nz & _mm512_cmp_ps_mask(v, _mm512_set1_ps(sink.bar()), _CMP_GE_OQ);
    if (!m) continue;
    alignas(64) float tmp[16];
    _mm512_store_ps(tmp, v);
    while (m) {
      uint32_t lane = __builtin_ctz(m);
      m &= m - 1;
      sink.take(i + lane, tmp[lane]);
    }
  }
  select_scalar(acc, i, n, sink);
}

template <class Sink>
__attribute__((target("avx2,fma")))
void select_avx2(float* acc, uint32_t n, Sink& sink) {
  const __m256 zero = _mm256_setzero_ps();
  uint32_t i = 0;
  alignas(32) float tmp[8];
  for (; i + 8 <= n; i += 8) {
    __m256 v = _mm256_loadu_ps(acc + i);
    int nz = _mm256_movemask_ps(_mm256_cmp_ps(v, zero, _CMP_GT_OQ));
    if (!nz) continue;
    _mm256_storeu_ps(acc + i, zero);
    int m = nz & _mm256_movemask_ps(_mm256_cmp_ps(v, _mm256_set1_ps(sink.bar()), _CMP_GE_OQ));
    if (!m) continue;
    _mm256_store_ps(tmp, v);
    while (m) {
      int lane = __builtin_ctz(m);
      m &= m - 1;
      sink.take(i + lane, tmp[lane]);
    }
  }
  select_scalar(acc, i, n, sink);
}
#endif

template <class Sink>
void select(float* acc, uint32_t n, Sink& sink) {
#if defined(__x86_64__)
  switch (cpu::level()) {
    case cpu::Level::Avx512: select_avx512(acc, n, sink); return;
    case cpu::Level::Avx2: select_avx2(acc, n, sink); return;
    default: break;
  }
#endif
  select_scalar(acc, 0, n, sink);
}

}  // namespace

void search_exact(const Segment& s, const Query& q, const SearchParams& p, Scratch& sc, TopK& top) {
  const uint32_t n = s.n_docs();
  if (!any_postings(s, q)) return;
  if (sc.acc.size() < n) sc.acc.resize(n, 0.f);
  float* acc = sc.acc.data();
  accumulate_all(s, q, acc);
  if (!s.quantized()) {
    ExactSink sink{s, p, top};
    select(acc, n, sink);
    return;
  }
  // The bound on |accumulator - exact score|: each impact is off by at most its term's largest
  // rounding error (kTermErr), plus a relative allowance for f32 summation in two different orders.
  const float* terr = s.sec<float>(kTermErr);
  const float* tmax = s.sec<float>(kTermMax);
  double err = 0;
  for (size_t i = 0; i < q.terms.size(); ++i)
    if (q.terms[i] < s.vocab()) err += double(q.weights[i]) * (terr[q.terms[i]] + 1e-5 * tmax[q.terms[i]]);
  sc.pairs.clear();
  BoundedSink sink{s, p, top, static_cast<float>(err) + 1e-6f, TopK(top.k()), sc.pairs};
  select(acc, n, sink);
  sink.compact();
  if (sc.dense_query.size() < s.vocab()) sc.dense_query.resize(s.vocab(), 0.f);
  float* dense = sc.dense_query.data();
  for (size_t i = 0; i < q.terms.size(); ++i)
    if (q.terms[i] < s.vocab()) dense[q.terms[i]] = q.weights[i];
  const ForwardView fwd(s);
  const uint32_t* docnos = s.docnos();
  for (const Hit& c : sc.pairs) {
    const float score = fwd.dot(c.docno, dense);
    if (!top.full() || score >= top.threshold()) top.push({score, docnos[c.docno]});
  }
  for (uint32_t t : q.terms)
    if (t < s.vocab()) dense[t] = 0.f;
}

std::vector<Hit> sparse_search(const std::vector<std::shared_ptr<Segment>>& segs, const Query& q,
                               const SearchParams& p) {
  TopK top(p.k);
  Scratch& sc = Scratch::local();
  for (const auto& s : segs) {
    if (s->n_docs() == 0 || s->deleted_count() == s->n_docs()) continue;
    if (p.approx && s->has_approx())
      (p.blocks && s->has_blocks()) ? search_blocks(*s, q, p, sc, top) : search_pruned(*s, q, p, sc, top);
    else
      search_exact(*s, q, p, sc, top);
  }
  return top.sorted();
}

}  // namespace lsr::sparse
