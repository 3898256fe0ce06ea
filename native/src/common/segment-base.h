// What every segment is, sparse or dense: a byte image (built in memory or mapped from its file)
// that starts with the format's header, sections addressed through the header's section table, a
// docnos section of ascending global document numbers, and tombstones over its local ids.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>

#include "common/image.h"
#include "common/tombstones.h"

namespace lsr {

template <typename Header, typename Section, Section kDocnosSection>
class SegmentBase {
 public:
  // Takes ownership of a fully built image (build.cc) or a mapped, verified file (segment-io.cc).
  explicit SegmentBase(std::unique_ptr<Image> image)
      : image_(std::move(image)),
        header_(reinterpret_cast<const Header*>(image_->data())),
        deleted_(header_->n_docs) {}

  const Header& header() const { return *header_; }
  uint32_t n_docs() const { return header_->n_docs; }
  size_t bytes() const { return image_->size(); }
  bool mapped() const { return image_->mapped(); }

  template <typename T>
  const T* sec(Section s) const {
    return reinterpret_cast<const T*>(image_->data() + header_->sections[s].offset);
  }
  uint64_t sec_len(Section s) const { return header_->sections[s].length; }

  const uint32_t* docnos() const { return sec<uint32_t>(kDocnosSection); }

  // Tombstones: local doc ids whose bit is set are skipped by every search (common/tombstones.h:
  // atomic bits, a search sees a delete entirely or not at all).
  bool is_deleted(uint32_t local) const { return deleted_.test(local); }
  // Returns true if the document was live.
  bool mark_deleted(uint32_t local) { return deleted_.set(local); }
  uint32_t deleted_count() const { return deleted_.count(); }
  // Local id of a global document number, or -1 when absent (binary search over docnos).
  int64_t local_of(uint32_t docno) const { return lsr::local_of(docnos(), n_docs(), docno); }

 protected:
  std::unique_ptr<Image> image_;
  const Header* header_;

 private:
  Tombstones deleted_;
};

}  // namespace lsr
