// Approximate top-k in the manner of Seismic (Bruch et al., SIGIR 2024): each term's posting list
// holds only its heaviest documents, clustered into blocks; a block is opened only when the dot
// product of the query with the block's summary (a pruned, quantized component-wise max of its
// documents) is at least heap_factor times the current k-th score. Opened documents are scored
// exactly from the forward index, so every returned score is exact; only recall is traded.
#include "common/cpu.h"
#include "sparse/forward.h"
#include "sparse/inverted.h"
#include "sparse/search.h"

#if defined(__x86_64__)
#include "../common/simd.h"
#endif

namespace lsr::sparse {

namespace {

template <typename W>
inline float dot_gather_scalar(const uint32_t* terms, const W* w, uint64_t n, const float* dense) {
  float s0 = 0, s1 = 0, s2 = 0, s3 = 0;
  uint64_t i = 0;
  for (; i + 4 <= n; i += 4) {
    s0 += dense[terms[i]] * static_cast<float>(w[i]);
    s1 += dense[terms[i + 1]] * static_cast<float>(w[i + 1]);
    s2 += dense[terms[i + 2]] * static_cast<float>(w[i + 2]);
    s3 += dense[terms[i + 3]] * static_cast<float>(w[i + 3]);
  }
  for (; i < n; ++i) s0 += dense[terms[i]] * static_cast<float>(w[i]);
  return (s0 + s1) + (s2 + s3);
}

#if defined(__x86_64__)
__attribute__((target("avx512f,avx512bw,avx512vl,avx512dq")))
float dot_u8_avx512(const uint32_t* terms, const uint8_t* w, uint64_t n, const float* dense) {
  __m512 acc = _mm512_setzero_ps();
  uint64_t i = 0;
  for (; i + 16 <= n; i += 16) {
    __m512i idx = _mm512_loadu_si512(terms + i);
    __m512 q = _mm512_i32gather_ps(idx, dense, 4);
    __m512 v = _mm512_cvtepi32_ps(_mm512_cvtepu8_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(w + i))));
    acc = _mm512_fmadd_ps(q, v, acc);
  }
  if (i < n) {
    __mmask16 m = static_cast<__mmask16>((1u << (n - i)) - 1);
    __m512i idx = _mm512_maskz_loadu_epi32(m, terms + i);
    __m512 q = _mm512_mask_i32gather_ps(_mm512_setzero_ps(), m, idx, dense, 4);
    __m512 v = _mm512_cvtepi32_ps(_mm512_cvtepu8_epi32(_mm_maskz_loadu_epi8(m, w + i)));
    acc = _mm512_fmadd_ps(q, v, acc);
  }
  return _mm512_reduce_add_ps(acc);
}

#endif

float dot_u8(const uint32_t* terms, const uint8_t* w, uint64_t n, const float* dense) {
#if defined(__x86_64__)
  if (cpu::level() == cpu::Level::Avx512) return dot_u8_avx512(terms, w, n, dense);
#endif
  return dot_gather_scalar(terms, w, n, dense);
}

// Adds postings [b, e) into a window's accumulator, appending each document to `touched` on its
// first touch without a branch; returns the new count of touched documents.
template <typename W>
inline uint32_t scatter(const uint16_t* ids, const W* w, uint64_t b, uint64_t e, float mult, float* acc,
                        uint16_t* touched, uint32_t nt) {
  for (uint64_t j = b; j < e; ++j) {
    const uint16_t id = ids[j];
    touched[nt] = id;
    nt += acc[id] == 0.f;
    acc[id] += mult * static_cast<float>(w[j]);
  }
  return nt;
}

// Spreads the query into the dense scratch vector (terms beyond this segment's vocabulary have no
// postings here) and returns the positions of its `cut` heaviest terms, heaviest first.
std::vector<uint32_t> load_query(const Query& q, uint32_t V, uint32_t cut, float* dense) {
  std::vector<uint32_t> order;
  for (size_t i = 0; i < q.terms.size(); ++i)
    if (q.terms[i] < V) {
      dense[q.terms[i]] = q.weights[i];
      order.push_back(static_cast<uint32_t>(i));
    }
  const size_t keep = std::min<size_t>(order.size(), cut);
  std::partial_sort(order.begin(), order.begin() + keep, order.end(), [&](uint32_t a, uint32_t b) {
    return q.weights[a] != q.weights[b] ? q.weights[a] > q.weights[b] : q.terms[a] < q.terms[b];
  });
  order.resize(keep);
  return order;
}

// Leaves the dense scratch vector all zero again for the next query.
void unload_query(const Query& q, uint32_t V, float* dense) {
  for (uint32_t t : q.terms)
    if (t < V) dense[t] = 0.f;
}

}  // namespace

void search_blocks(const Segment& s, const Query& q, const SearchParams& p, Scratch& sc, TopK& top) {
  const uint32_t V = s.vocab(), n = s.n_docs();
  if (sc.dense_query.size() < V) sc.dense_query.resize(V, 0.f);
  if (sc.visited.size() < n) sc.visited.resize(n, 0);
  if (++sc.epoch == 0) {
    std::fill(sc.visited.begin(), sc.visited.end(), 0);
    sc.epoch = 1;
  }
  float* dense = sc.dense_query.data();
  const std::vector<uint32_t> order = load_query(q, V, p.query_cut, dense);

  const uint64_t* bto = s.sec<uint64_t>(kBlkTermOffsets);
  const uint64_t* bdo = s.sec<uint64_t>(kBlkDocOffsets);
  const uint32_t* bd = s.sec<uint32_t>(kBlkDocs);
  const uint64_t* so = s.sec<uint64_t>(kSumOffsets);
  const uint32_t* st = s.sec<uint32_t>(kSumTerms);
  const uint8_t* sv = s.sec<uint8_t>(kSumValues);
  const float* ss = s.sec<float>(kSumScale);
  const ForwardView fwd(s);
  const uint32_t* docnos = s.docnos();
  uint32_t* visited = sc.visited.data();
  const uint32_t epoch = sc.epoch;

  for (uint32_t qi : order) {
    const uint32_t t = q.terms[qi];
    for (uint64_t b = bto[t]; b < bto[t + 1]; ++b) {
      if (top.full()) {
        float ub = dot_u8(st + so[b], sv + so[b], so[b + 1] - so[b], dense) * ss[b];
        if (ub < p.heap_factor * top.threshold()) continue;
      }
      for (uint64_t j = bdo[b]; j < bdo[b + 1]; ++j) {
        const uint32_t d = bd[j];
        if (visited[d] == epoch) continue;
        visited[d] = epoch;
        if (s.is_deleted(d) || !allowed(p, docnos[d])) continue;
        float score = fwd.dot(d, dense);
        if (!top.full() || score >= top.threshold()) top.push({score, docnos[d]});
      }
    }
  }
  unload_query(q, V, dense);
}

// Statically pruned lists with exact re-ranking: each term keeps only its `postings` heaviest
// entries (the heavy start of each of its runs); the query's `query_cut` heaviest terms are
// accumulated over those short lists, and the `rerank` best partial scores are re-scored exactly
// from the forward index. The work is bounded by query_cut x postings + rerank x document length,
// plus one pass over the windows' run headers.
void search_pruned(const Segment& s, const Query& q, const SearchParams& p, Scratch& sc, TopK& top) {
  const uint32_t V = s.vocab(), n = s.n_docs();
  if (sc.dense_query.size() < V) sc.dense_query.resize(V, 0.f);
  float* dense = sc.dense_query.data();
  const std::vector<uint32_t> order = load_query(q, V, p.query_cut, dense);
  const InvertedView inv(s);
  // One cursor per visited term over its runs, which ascend by window.
  struct Cursor {
    uint64_t r, r_end, first;  // next run, end of runs, the term's first posting
    uint32_t start;            // the next run's start, from `first`
    float mult;                // query weight (x the term's u8 scale)
  };
  std::vector<Cursor> cur;
  cur.reserve(order.size());
  for (uint32_t qi : order) {
    const uint32_t t = q.terms[qi];
    cur.push_back({inv.run_off[t], inv.run_off[t + 1], inv.first[t], 0, inv.mult(t, q.weights[qi])});
  }
  // Window by window, scatter the heavy postings into a 65,536-entry accumulator (256 KiB: it stays
  // in L2, where a collection-sized one would miss on nearly every posting at 1M documents) and
  // note each document on its first touch, branch-free; then drain the touched documents into the
  // bounded heap of the `rerank` best partial scores. A document's partial score sums its terms in
  // the order visited (heaviest query term first), so ties and roundings do not depend on layout.
  if (sc.acc.size() < (1u << kWindowBits)) sc.acc.resize(1u << kWindowBits, 0.f);
  if (sc.touched.size() < (1u << kWindowBits)) sc.touched.resize(1u << kWindowBits);
  float* acc = sc.acc.data();
  uint16_t* touched = sc.touched.data();
  TopK sel(static_cast<uint32_t>(std::max(p.rerank, top.k())));
  const uint32_t windows = (n + (1u << kWindowBits) - 1) >> kWindowBits;
  for (uint32_t w = 0; w < windows; ++w) {
    uint32_t nt = 0;
    for (Cursor& c : cur) {
      if (c.r == c.r_end || inv.run_win[c.r] != w) continue;
      const uint64_t b = c.first + c.start, e = b + inv.run_heavy[c.r];
      if (inv.wq) nt = scatter(inv.ids, inv.wq, b, e, c.mult, acc, touched, nt);
      else nt = scatter(inv.ids, inv.wf, b, e, c.mult, acc, touched, nt);
      c.start = inv.run_end[c.r];
      ++c.r;
    }
    const uint32_t base = w << kWindowBits;
    for (uint32_t i = 0; i < nt; ++i) {
      const uint16_t id = touched[i];
      const float v = acc[id];
      acc[id] = 0.f;
      if (v > 0.f && (!sel.full() || v >= sel.threshold())) sel.push({v, base | id});
    }
  }
  const std::vector<Hit> cands = sel.sorted();
  const size_t r = cands.size();
  const ForwardView fwd(s);
  const uint32_t* docnos = s.docnos();
  // Candidates' forward vectors sit at unrelated places in memory: fetch a few ahead.
  constexpr size_t kAhead = 4;
  for (size_t i = 0; i < std::min(r, kAhead); ++i) fwd.prefetch(cands[i].docno);
  for (size_t i = 0; i < r; ++i) {
    if (i + kAhead < r) fwd.prefetch(cands[i + kAhead].docno);
    const uint32_t d = cands[i].docno;  // a local id here
    if (s.is_deleted(d) || !allowed(p, docnos[d])) continue;
    float score = fwd.dot(d, dense);
    if (!top.full() || score >= top.threshold()) top.push({score, docnos[d]});
  }
  unload_query(q, V, dense);
}

}  // namespace lsr::sparse
