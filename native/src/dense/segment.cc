#include "dense/segment.h"

#include <algorithm>

#include "dense/kernels.h"

namespace lsr::dense {

Segment::Segment(std::unique_ptr<Image> image)
    : image_(std::move(image)), header_(reinterpret_cast<const Header*>(image_->data())) {
  const size_t words = std::max<size_t>(1, (static_cast<size_t>(header_->n_docs) + 63) / 64);
  deleted_.reset(new std::atomic<uint64_t>[words]);
  for (size_t i = 0; i < words; ++i) deleted_[i].store(0, std::memory_order_relaxed);
}

bool Segment::mark_deleted(uint32_t local) {
  const uint64_t bit = uint64_t(1) << (local & 63);
  if (deleted_[local >> 6].fetch_or(bit, std::memory_order_relaxed) & bit) return false;
  deleted_count_.fetch_add(1, std::memory_order_relaxed);
  return true;
}

int64_t Segment::local_of(uint32_t docno) const {
  const uint32_t* d = docnos();
  const uint32_t* e = d + n_docs();
  const uint32_t* it = std::lower_bound(d, e, docno);
  return (it == e || *it != docno) ? -1 : it - d;
}

float Segment::score(const float* q, uint32_t local) const {
  const Kernels& k = kernels();
  return int8() ? k.dot_i8(q, row_i8(local), stride()) * scale(local) : k.dot_f32(q, row_f32(local), stride());
}

void Segment::score4(const float* q, const uint32_t* l, float* out) const {
  const Kernels& k = kernels();
  if (!int8()) {
    const float* x[4] = {row_f32(l[0]), row_f32(l[1]), row_f32(l[2]), row_f32(l[3])};
    k.dot4_f32(q, x, stride(), out);
    return;
  }
  const int8_t* x[4] = {row_i8(l[0]), row_i8(l[1]), row_i8(l[2]), row_i8(l[3])};
  k.dot4_i8(q, x, stride(), out);
  for (int j = 0; j < 4; ++j) out[j] *= scale(l[j]);
}

void Segment::decode(uint32_t local, float* out) const {
  const uint32_t s = stride();
  if (!int8()) {
    std::copy(row_f32(local), row_f32(local) + s, out);
    return;
  }
  const int8_t* r = row_i8(local);
  const float sc = scale(local);
  for (uint32_t i = 0; i < s; ++i) out[i] = static_cast<float>(r[i]) * sc;
}

}  // namespace lsr::dense
