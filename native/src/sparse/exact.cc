// Exact top-k: term-at-a-time accumulation into a dense per-document array, then one SIMD pass
// that selects the candidates above the current k-th score and clears the array for the next query.
// On learned-sparse vectors (long, weighted queries, no stopword-like skew in the impacts) this
// beats document-at-a-time dynamic pruning (see docs/engine.md for the measurements).
#include <cmath>
#include <cstring>

#include "common/cpu.h"
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
void accumulate(const uint32_t* docs, const W* w, uint64_t n, float mult, float* acc) {
  for (uint64_t i = 0; i < n; ++i) acc[docs[i]] += mult * static_cast<float>(w[i]);
}

inline void consider(const Segment& s, const SearchParams& p, uint32_t local, float score, TopK& top) {
  if (s.is_deleted(local)) return;
  uint32_t docno = s.docnos()[local];
  if (!allowed(p, docno)) return;
  top.push({score, docno});
}

// Scalar selection: every document with a positive score competes.
void select_scalar(const Segment& s, const SearchParams& p, float* acc, uint32_t from, uint32_t n, TopK& top) {
  for (uint32_t i = from; i < n; ++i) {
    float v = acc[i];
    if (v > 0.f) {
      acc[i] = 0.f;
      // >= keeps ties with the threshold: a lower docno may still enter.
      if (!top.full() || v >= top.threshold()) consider(s, p, i, v, top);
    }
  }
}

#if defined(__x86_64__)
__attribute__((target("avx512f,avx512bw,avx512vl,avx512dq")))
void select_avx512(const Segment& s, const SearchParams& p, float* acc, uint32_t n, TopK& top) {
  const __m512 zero = _mm512_setzero_ps();
  uint32_t i = 0;
  for (; i + 16 <= n; i += 16) {
    __m512 v = _mm512_loadu_ps(acc + i);
    float thr = top.full() ? top.threshold() : 0.f;
    __mmask16 nz = _mm512_cmp_ps_mask(v, zero, _CMP_GT_OQ);
    if (!nz) continue;
    __mmask16 m = top.full() ? _mm512_cmp_ps_mask(v, _mm512_set1_ps(thr), _CMP_GE_OQ) : nz;
    _mm512_storeu_ps(acc + i, zero);
    if (!m) continue;
    alignas(64) float tmp[16];
    _mm512_store_ps(tmp, v);
    while (m) {
      uint32_t lane = __builtin_ctz(m);
      m &= m - 1;
      if (!top.full() || tmp[lane] >= top.threshold()) consider(s, p, i + lane, tmp[lane], top);
    }
  }
  select_scalar(s, p, acc, i, n, top);
}

__attribute__((target("avx2,fma")))
void select_avx2(const Segment& s, const SearchParams& p, float* acc, uint32_t n, TopK& top) {
  const __m256 zero = _mm256_setzero_ps();
  uint32_t i = 0;
  alignas(32) float tmp[8];
  for (; i + 8 <= n; i += 8) {
    __m256 v = _mm256_loadu_ps(acc + i);
    int nz = _mm256_movemask_ps(_mm256_cmp_ps(v, zero, _CMP_GT_OQ));
    if (!nz) continue;
    int m = top.full() ? _mm256_movemask_ps(_mm256_cmp_ps(v, _mm256_set1_ps(top.threshold()), _CMP_GE_OQ)) : nz;
    _mm256_storeu_ps(acc + i, zero);
    if (!m) continue;
    _mm256_store_ps(tmp, v);
    while (m) {
      int lane = __builtin_ctz(m);
      m &= m - 1;
      if (!top.full() || tmp[lane] >= top.threshold()) consider(s, p, i + lane, tmp[lane], top);
    }
  }
  select_scalar(s, p, acc, i, n, top);
}
#endif

}  // namespace

void search_exact(const Segment& s, const Query& q, const SearchParams& p, Scratch& sc, TopK& top) {
  const uint32_t n = s.n_docs();
  if (sc.acc.size() < n) sc.acc.resize(n, 0.f);
  float* acc = sc.acc.data();
  const uint64_t* off = s.sec<uint64_t>(kInvOffsets);
  const uint32_t* docs = s.sec<uint32_t>(kInvDocs);
  const float* tmax = s.sec<float>(kTermMax);
  bool any = false;
  for (size_t i = 0; i < q.terms.size(); ++i) {
    uint32_t t = q.terms[i];
    if (t >= s.vocab()) continue;
    uint64_t a = off[t], b = off[t + 1];
    if (a == b) continue;
    any = true;
    if (s.quantized())
      accumulate(docs + a, s.sec<uint8_t>(kInvWeights) + a, b - a, q.weights[i] * tmax[t] / 255.f, acc);
    else
      accumulate(docs + a, s.sec<float>(kInvWeights) + a, b - a, q.weights[i], acc);
  }
  if (!any) return;
#if defined(__x86_64__)
  switch (cpu::level()) {
    case cpu::Level::Avx512: select_avx512(s, p, acc, n, top); return;
    case cpu::Level::Avx2: select_avx2(s, p, acc, n, top); return;
    default: break;
  }
#endif
  select_scalar(s, p, acc, 0, n, top);
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
