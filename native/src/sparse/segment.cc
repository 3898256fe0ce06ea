#include "sparse/segment.h"

namespace lsr::sparse {

Segment::Segment(std::unique_ptr<Image> image)
    : image_(std::move(image)),
      header_(reinterpret_cast<const Header*>(image_->data())),
      deleted_(header_->n_docs) {}

}  // namespace lsr::sparse
