// Byte images that back immutable structures: owned (built in memory) or mapped from a file.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <new>

namespace lsr {

// Owned bytes or a read-only file mapping (common/segment-file.cc maps them).
class Image {
 public:
  virtual ~Image() = default;
  virtual const uint8_t* data() const = 0;
  virtual size_t size() const = 0;
  // Whether the bytes are a read-only file mapping (the kernel may page them out and back in).
  virtual bool mapped() const { return false; }
};

// 64-byte aligned, zero-filled owned bytes.
class OwnedImage final : public Image {
 public:
  explicit OwnedImage(size_t n) : size_(n) {
    size_t rounded = (n + 63) & ~size_t(63);
    data_ = static_cast<uint8_t*>(std::aligned_alloc(64, rounded ? rounded : 64));
    if (!data_) throw std::bad_alloc();
    std::memset(data_, 0, rounded ? rounded : 64);
  }
  ~OwnedImage() override { std::free(data_); }
  const uint8_t* data() const override { return data_; }
  uint8_t* mutable_data() { return data_; }
  size_t size() const override { return size_; }

 private:
  uint8_t* data_;
  size_t size_;
};

}  // namespace lsr
