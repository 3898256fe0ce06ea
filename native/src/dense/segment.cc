#include "dense/segment.h"

#include <algorithm>

#include "dense/kernels.h"

namespace lsr::dense {

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
