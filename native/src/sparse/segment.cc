#include "sparse/segment.h"

#include <algorithm>

namespace lsr::sparse {

Segment::Segment(std::unique_ptr<Image> image)
    : image_(std::move(image)), header_(reinterpret_cast<const Header*>(image_->data())) {
  size_t words = (static_cast<size_t>(header_->n_docs) + 63) / 64;
  deleted_.reset(new std::atomic<uint64_t>[words ? words : 1]);
  for (size_t i = 0; i < (words ? words : 1); ++i) deleted_[i].store(0, std::memory_order_relaxed);
}

bool Segment::mark_deleted(uint32_t local) {
  uint64_t bit = uint64_t(1) << (local & 63);
  uint64_t prev = deleted_[local >> 6].fetch_or(bit, std::memory_order_relaxed);
  if (prev & bit) return false;
  deleted_count_.fetch_add(1, std::memory_order_relaxed);
  return true;
}

int64_t Segment::local_of(uint32_t docno) const {
  const uint32_t* d = docnos();
  const uint32_t* e = d + n_docs();
  const uint32_t* it = std::lower_bound(d, e, docno);
  if (it == e || *it != docno) return -1;
  return it - d;
}

}  // namespace lsr::sparse
