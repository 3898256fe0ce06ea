// The result shape of every search, sparse or dense: hits and the bounded top-k that collects them.
// One definition, so both engines break ties the same way and hybrid fusion sees one ordering rule.
#pragma once

#include <algorithm>
#include <cstdint>
#include <vector>

namespace lsr {

struct Hit {
  float score;
  uint32_t docno;
};

// Better = higher score, then lower docno: the order results are returned in, so ties between
// equal scores are broken by document order, deterministically.
inline bool better(const Hit& a, const Hit& b) {
  return a.score != b.score ? a.score > b.score : a.docno < b.docno;
}

// Bounded min-heap of the best k hits seen so far.
class TopK {
 public:
  explicit TopK(uint32_t k) : k_(k) { heap_.reserve(k); }
  bool full() const { return heap_.size() >= k_; }
  // Score a candidate must exceed (or tie with a lower docno) to enter once full. Before that it is
  // -1, which only the sparse engine (scores >= 0) reads without asking full() first.
  float threshold() const { return full() ? heap_.front().score : -1.f; }
  void push(Hit h) {
    auto cmp = [](const Hit& a, const Hit& b) { return better(a, b); };
    if (!full()) {
      heap_.push_back(h);
      std::push_heap(heap_.begin(), heap_.end(), cmp);
    } else if (better(h, heap_.front())) {
      std::pop_heap(heap_.begin(), heap_.end(), cmp);
      heap_.back() = h;
      std::push_heap(heap_.begin(), heap_.end(), cmp);
    }
  }
  std::vector<Hit> sorted() const {
    std::vector<Hit> out(heap_);
    std::sort(out.begin(), out.end(), better);
    return out;
  }
  uint32_t k() const { return k_; }

 private:
  uint32_t k_;
  std::vector<Hit> heap_;
};

}  // namespace lsr
