// Tombstones of an immutable segment: one bit per local doc id, set when the document is deleted,
// and the docno -> local id lookup deletes go through. Shared by sparse and dense segments.
#pragma once

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>

namespace lsr {

// Deletes may race with searches on other threads; each bit is written and read atomically, and a
// search sees a delete either entirely or not at all.
class Tombstones {
 public:
  explicit Tombstones(uint32_t n_docs) {
    const size_t words = std::max<size_t>(1, (static_cast<size_t>(n_docs) + 63) / 64);
    bits_.reset(new std::atomic<uint64_t>[words]);
    for (size_t i = 0; i < words; ++i) bits_[i].store(0, std::memory_order_relaxed);
  }
  bool test(uint32_t local) const { return (bits_[local >> 6].load(std::memory_order_relaxed) >> (local & 63)) & 1u; }
  // Returns true if the bit was clear (the document was live).
  bool set(uint32_t local) {
    const uint64_t bit = uint64_t(1) << (local & 63);
    if (bits_[local >> 6].fetch_or(bit, std::memory_order_relaxed) & bit) return false;
    count_.fetch_add(1, std::memory_order_relaxed);
    return true;
  }
  uint32_t count() const { return count_.load(std::memory_order_relaxed); }

 private:
  std::unique_ptr<std::atomic<uint64_t>[]> bits_;
  std::atomic<uint32_t> count_{0};
};

// Local id of a global document number in ascending `docnos`, or -1 when absent (binary search).
inline int64_t local_of(const uint32_t* docnos, uint32_t n, uint32_t docno) {
  const uint32_t* e = docnos + n;
  const uint32_t* it = std::lower_bound(docnos, e, docno);
  return (it == e || *it != docno) ? -1 : it - docnos;
}

}  // namespace lsr
