#include "sparse/segment-io.h"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/crc32c.h"

namespace lsr::sparse {

namespace {

class MappedImage final : public Image {
 public:
  MappedImage(void* p, size_t n) : p_(p), n_(n) {}
  ~MappedImage() override {
    if (p_) munmap(p_, n_);
  }
  const uint8_t* data() const override { return static_cast<const uint8_t*>(p_); }
  size_t size() const override { return n_; }

 private:
  void* p_;
  size_t n_;
};

IoError io_error(const std::string& what, const std::string& path) {
  return {"SEGMENT_IO", what + " '" + path + "': " + std::strerror(errno)};
}

std::string dir_of(const std::string& path) {
  auto slash = path.find_last_of('/');
  return slash == std::string::npos ? "." : (slash == 0 ? "/" : path.substr(0, slash));
}

// Expected byte length of each section from the header's counts; -1 = any (variable sized).
bool lengths_consistent(const Header& h) {
  const uint64_t n = h.n_docs, V = h.vocab, nnz = h.nnz, B = h.n_blocks;
  const uint64_t exp[kSectionCount] = {
      4 * n, 8 * (n + 1), 4 * nnz, 4 * nnz, 8 * (V + 1), 4 * nnz, ((h.flags & kQuantU8) ? 1 : 4) * nnz, 4 * V,
      (h.flags & kHasBlocks) ? 8 * (V + 1) : 0, (h.flags & kHasBlocks) ? 8 * (B + 1) : 0, UINT64_MAX,
      (h.flags & kHasBlocks) ? 8 * (B + 1) : 0, UINT64_MAX, UINT64_MAX, (h.flags & kHasBlocks) ? 4 * B : 0,
      (h.flags & kHasApprox) ? 8 * (V + 1) : 0, UINT64_MAX, UINT64_MAX};
  for (uint32_t s = 0; s < kSectionCount; ++s)
    if (exp[s] != UINT64_MAX && h.sections[s].length != exp[s]) return false;
  // The variable-sized approximate sections must agree with each other.
  if (h.sections[kSumTerms].length / 4 != h.sections[kSumValues].length) return false;
  if (h.sections[kSumTerms].length % 4 || h.sections[kBlkDocs].length % 4) return false;
  if (h.sections[kPrunedDocs].length != h.sections[kPrunedWeights].length || h.sections[kPrunedDocs].length % 4) return false;
  return true;
}

}  // namespace

IoError save_segment(const Segment& s, const std::string& path) {
  const std::string tmp = path + ".tmp";
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return io_error("cannot create", tmp);
  const uint8_t* p = reinterpret_cast<const uint8_t*>(&s.header());
  size_t left = s.bytes();
  while (left > 0) {
    ssize_t w = ::write(fd, p, left > (1u << 30) ? (1u << 30) : left);
    if (w < 0) {
      if (errno == EINTR) continue;
      IoError e = io_error("cannot write", tmp);
      ::close(fd);
      ::unlink(tmp.c_str());
      return e;
    }
    p += w;
    left -= static_cast<size_t>(w);
  }
  if (::fsync(fd) != 0) {
    IoError e = io_error("cannot fsync", tmp);
    ::close(fd);
    ::unlink(tmp.c_str());
    return e;
  }
  ::close(fd);
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    IoError e = io_error("cannot rename to", path);
    ::unlink(tmp.c_str());
    return e;
  }
  int dfd = ::open(dir_of(path).c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd >= 0) {
    ::fsync(dfd);
    ::close(dfd);
  }
  return {};
}

std::shared_ptr<Segment> open_segment(const std::string& path, IoError& err) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    err = io_error("cannot open", path);
    return nullptr;
  }
  struct stat st{};
  if (::fstat(fd, &st) != 0) {
    err = io_error("cannot stat", path);
    ::close(fd);
    return nullptr;
  }
  const size_t size = static_cast<size_t>(st.st_size);
  if (size < sizeof(Header)) {
    ::close(fd);
    err = {"SEGMENT_TRUNCATED", "segment file '" + path + "' is truncated: " + std::to_string(size) +
                                    " bytes, smaller than its header"};
    return nullptr;
  }
  void* p = ::mmap(nullptr, size, PROT_READ, MAP_PRIVATE, fd, 0);
  ::close(fd);
  if (p == MAP_FAILED) {
    err = io_error("cannot map", path);
    return nullptr;
  }
  auto img = std::make_unique<MappedImage>(p, size);
  Header h;
  std::memcpy(&h, p, sizeof(Header));
  if (std::memcmp(h.magic, kMagic, 8) != 0) {
    err = {"SEGMENT_CORRUPT", "segment file '" + path + "' has a bad magic number (not a segment file)"};
    return nullptr;
  }
  if (h.version != kFormatVersion) {
    err = {"SEGMENT_VERSION", "segment file '" + path + "' has format version " + std::to_string(h.version) +
                                  ", this build reads version " + std::to_string(kFormatVersion)};
    return nullptr;
  }
  if (crc32c(&h, offsetof(Header, header_crc32c)) != h.header_crc32c) {
    err = {"SEGMENT_CORRUPT", "segment file '" + path + "' has a corrupt header (checksum mismatch)"};
    return nullptr;
  }
  if (h.section_count != kSectionCount || !lengths_consistent(h)) {
    err = {"SEGMENT_CORRUPT", "segment file '" + path + "' has an inconsistent section table"};
    return nullptr;
  }
  uint64_t need = 0;
  for (uint32_t s = 0; s < kSectionCount; ++s) {
    if (h.sections[s].offset % 64 != 0 || h.sections[s].offset < sizeof(Header)) {
      err = {"SEGMENT_CORRUPT", "segment file '" + path + "' has a misaligned section " + std::to_string(s)};
      return nullptr;
    }
    need = std::max(need, h.sections[s].offset + h.sections[s].length);
  }
  if (need > size) {
    err = {"SEGMENT_TRUNCATED", "segment file '" + path + "' is truncated: " + std::to_string(size) +
                                    " bytes, its sections need " + std::to_string(need)};
    return nullptr;
  }
  for (uint32_t s = 0; s < kSectionCount; ++s) {
    const auto& e = h.sections[s];
    if (crc32c(static_cast<const uint8_t*>(p) + e.offset, e.length) != e.crc32c) {
      err = {"SEGMENT_CORRUPT", "segment file '" + path + "' failed its checksum in section " + std::to_string(s)};
      return nullptr;
    }
  }
  return std::make_shared<Segment>(std::move(img));
}

}  // namespace lsr::sparse
