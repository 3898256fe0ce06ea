// HNSW construction, as in hnswlib (insertion with ef_construction, the neighbour-selection
// heuristic, per-node locks so several threads insert at once), writing into the segment image.
#include "dense/hnsw.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <mutex>
#include <queue>

#include "common/parallel.h"

namespace lsr::dense {

namespace {

inline uint64_t mix(uint64_t z) {
  z += 0x9E3779B97F4A7C15ull;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

using Cand = std::pair<float, uint32_t>;  // (score with the query, local id)

struct BuildScratch {
  std::vector<uint32_t> stamp;
  uint32_t epoch = 0;
  std::vector<float> q, other, base;
  std::vector<Cand> kept, cands;
  std::vector<uint32_t> nbrs;
  std::vector<float> scores;
};

class Builder {
 public:
  Builder(const Segment& s, uint32_t* links0, uint32_t* upper, uint32_t m, uint32_t efc)
      : s_(s), links0_(links0), upper_(upper), m_(m), m0_(2 * m), efc_(std::max(efc, m)), locks_(s.n_docs()) {}

  GraphEntry run(uint32_t threads) {
    const uint32_t n = s_.n_docs();
    entry_ = 0;
    max_level_ = s_.level(0);
    std::vector<BuildScratch> scratch(std::max(1u, threads));
    parallel_chunks(n - 1, threads, 64, [&](uint32_t w, uint64_t b, uint64_t e) {
      for (uint64_t i = b; i < e; ++i) insert(static_cast<uint32_t>(i + 1), scratch[w]);
    });
    return {entry_, max_level_};
  }

 private:
  uint32_t* slot(uint32_t node, uint32_t lvl) {
    if (lvl == 0) return links0_ + uint64_t(node) * (1 + m0_);
    return upper_ + (s_.sec<uint64_t>(kUpperOffsets)[node] + lvl - 1) * (1 + m_);
  }
  uint32_t cap(uint32_t lvl) const { return lvl ? m_ : m0_; }

  void copy_links(uint32_t node, uint32_t lvl, std::vector<uint32_t>& out) {
    std::lock_guard<std::mutex> g(locks_[node]);
    const uint32_t* l = slot(node, lvl);
    out.assign(l + 1, l + 1 + l[0]);
  }

  void next_epoch(BuildScratch& sc) {
    if (sc.stamp.size() < s_.n_docs()) sc.stamp.assign(s_.n_docs(), 0), sc.epoch = 0;
    if (++sc.epoch == 0) std::fill(sc.stamp.begin(), sc.stamp.end(), 0), sc.epoch = 1;
  }

  // Best-first search of one level from `ep`; returns up to ef candidates, best first.
  std::vector<Cand> search_level(const float* q, Cand ep, uint32_t ef, uint32_t lvl, BuildScratch& sc) {
    next_epoch(sc);
    std::priority_queue<Cand> cand;  // best first
    std::priority_queue<Cand, std::vector<Cand>, std::greater<Cand>> res;  // worst first
    cand.push(ep);
    res.push(ep);
    sc.stamp[ep.second] = sc.epoch;
    while (!cand.empty()) {
      const Cand c = cand.top();
      if (res.size() >= ef && c.first < res.top().first) break;
      cand.pop();
      copy_links(c.second, lvl, sc.nbrs);
      uint32_t fresh = 0;
      for (uint32_t nb : sc.nbrs)
        if (sc.stamp[nb] != sc.epoch) sc.stamp[nb] = sc.epoch, sc.nbrs[fresh++] = nb;
      sc.scores.resize(fresh);
      s_.score_many(q, sc.nbrs.data(), fresh, sc.scores.data());
      for (uint32_t i = 0; i < fresh; ++i) {
        const uint32_t nb = sc.nbrs[i];
        const float v = sc.scores[i];
        if (res.size() < ef || v > res.top().first) {
          cand.push({v, nb});
          res.push({v, nb});
          if (res.size() > ef) res.pop();
        }
      }
    }
    std::vector<Cand> out(res.size());
    for (size_t i = out.size(); i-- > 0; res.pop()) out[i] = res.top();
    return out;
  }

  // hnswlib's heuristic: keep a candidate only if no kept neighbour is closer to it than the base
  // node is, which spreads links over directions and keeps clustered data navigable.
  void select(std::vector<Cand>& cands, uint32_t limit, BuildScratch& sc) {
    if (cands.size() <= limit) return;
    std::vector<Cand>& kept = sc.kept;
    kept.clear();
    sc.other.resize(s_.stride());
    for (const Cand& c : cands) {
      if (kept.size() >= limit) break;
      const float* cv = s_.row_as_f32(c.second, sc.other.data());
      bool good = true;
      for (const Cand& k : kept)
        if (s_.score(cv, k.second) > c.first) {
          good = false;
          break;
        }
      if (good) kept.push_back(c);
    }
    cands.assign(kept.begin(), kept.end());
  }

  void connect(uint32_t node, uint32_t lvl, std::vector<Cand> w, BuildScratch& sc) {
    select(w, m_, sc);
    {
      std::lock_guard<std::mutex> g(locks_[node]);
      uint32_t* l = slot(node, lvl);
      l[0] = static_cast<uint32_t>(w.size());
      for (size_t i = 0; i < w.size(); ++i) l[1 + i] = w[i].second;
    }
    sc.base.resize(s_.stride());
    for (const Cand& c : w) {
      const uint32_t nb = c.second;
      std::lock_guard<std::mutex> g(locks_[nb]);
      uint32_t* l = slot(nb, lvl);
      if (l[0] < cap(lvl)) {
        l[1 + l[0]++] = node;
        continue;
      }
      // Full: re-select the neighbour's links among its current ones and the new node.
      const float* base = s_.row_as_f32(nb, sc.base.data());
      std::vector<Cand>& cands = sc.cands;
      cands.clear();
      cands.push_back({c.first, node});
      for (uint32_t i = 0; i < l[0]; ++i) cands.push_back({s_.score(base, l[1 + i]), l[1 + i]});
      std::sort(cands.begin(), cands.end(), std::greater<Cand>());
      select(cands, cap(lvl), sc);
      l[0] = static_cast<uint32_t>(cands.size());
      for (size_t i = 0; i < cands.size(); ++i) l[1 + i] = cands[i].second;
    }
  }

  void insert(uint32_t node, BuildScratch& sc) {
    const uint32_t level = s_.level(node);
    std::unique_lock<std::mutex> top(global_);
    uint32_t ep = entry_, max_level = max_level_;
    // A node that becomes the new entry point holds the lock for its whole insertion (rare).
    if (level <= max_level) top.unlock();
    sc.q.resize(s_.stride());
    const float* q = s_.row_as_f32(node, sc.q.data());
    Cand cur{s_.score(q, ep), ep};
    for (uint32_t lvl = max_level; lvl > level; --lvl) {
      for (bool changed = true; changed;) {
        changed = false;
        copy_links(cur.second, lvl, sc.nbrs);
        for (uint32_t nb : sc.nbrs) {
          const float v = s_.score(q, nb);
          if (v > cur.first) cur = {v, nb}, changed = true;
        }
      }
    }
    for (uint32_t lvl = std::min(level, max_level) + 1; lvl-- > 0;) {
      std::vector<Cand> w = search_level(q, cur, efc_, lvl, sc);
      w.erase(std::remove_if(w.begin(), w.end(), [&](const Cand& c) { return c.second == node; }), w.end());
      if (w.empty()) continue;
      cur = w.front();
      connect(node, lvl, std::move(w), sc);
    }
    if (level > max_level) {
      entry_ = node;
      max_level_ = level;
    }
  }

  const Segment& s_;
  uint32_t* links0_;
  uint32_t* upper_;
  const uint32_t m_, m0_, efc_;
  std::vector<std::mutex> locks_;
  std::mutex global_;
  uint32_t entry_ = 0, max_level_ = 0;
};

}  // namespace

uint32_t draw_level(uint32_t seed, uint32_t docno, uint32_t m) {
  const uint64_t h = mix((uint64_t(seed) << 32) ^ docno);
  const double u = (double((h >> 11) + 1)) * 0x1.0p-53;  // (0, 1]
  const double lvl = std::floor(-std::log(u) / std::log(double(std::max(2u, m))));
  return static_cast<uint32_t>(std::min(lvl, 15.0));
}

GraphEntry build_graph(const Segment& seg, uint32_t* links0, uint32_t* upper, uint32_t m, uint32_t ef_construction,
                       uint32_t threads) {
  if (seg.n_docs() == 0) return {0, 0};
  return Builder(seg, links0, upper, m, ef_construction).run(threads);
}

}  // namespace lsr::dense
