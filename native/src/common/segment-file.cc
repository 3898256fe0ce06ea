#include "common/segment-file.h"

#include <algorithm>
#include <cerrno>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

namespace lsr {

namespace {

class MappedImage final : public Image {
 public:
  MappedImage(void* p, size_t n) : p_(p), n_(n) {}
  ~MappedImage() override {
    if (p_) munmap(p_, n_);
  }
  const uint8_t* data() const override { return static_cast<const uint8_t*>(p_); }
  size_t size() const override { return n_; }
  bool mapped() const override { return true; }

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

}  // namespace

IoError write_file_atomic(const std::string& path, const void* data, size_t n) {
  const std::string tmp = path + ".tmp";
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return io_error("cannot create", tmp);
  const uint8_t* p = static_cast<const uint8_t*>(data);
  size_t left = n;
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

std::unique_ptr<Image> map_file(const std::string& path, size_t min_size, const std::string& what, IoError& err) {
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
  if (size < min_size) {
    ::close(fd);
    err = {"SEGMENT_TRUNCATED", what + " is truncated: " + std::to_string(size) + " bytes, smaller than its header"};
    return nullptr;
  }
  void* p = ::mmap(nullptr, size, PROT_READ, MAP_PRIVATE, fd, 0);
  ::close(fd);
  if (p == MAP_FAILED) {
    err = io_error("cannot map", path);
    return nullptr;
  }
  return std::make_unique<MappedImage>(p, size);
}

bool check_sections(const Image& img, const SectionEntry* sections, uint32_t count, size_t header_size,
                    const std::string& what, IoError& err) {
  uint64_t need = 0;
  for (uint32_t s = 0; s < count; ++s) {
    if (sections[s].offset % 64 != 0 || sections[s].offset < header_size) {
      err = {"SEGMENT_CORRUPT", what + " has a misaligned section " + std::to_string(s)};
      return false;
    }
    need = std::max(need, sections[s].offset + sections[s].length);
  }
  if (need > img.size()) {
    err = {"SEGMENT_TRUNCATED", what + " is truncated: " + std::to_string(img.size()) + " bytes, its sections need " +
                                    std::to_string(need)};
    return false;
  }
  for (uint32_t s = 0; s < count; ++s) {
    const auto& e = sections[s];
    if (crc32c(img.data() + e.offset, e.length) != e.crc32c) {
      err = {"SEGMENT_CORRUPT", what + " failed its checksum in section " + std::to_string(s)};
      return false;
    }
  }
  return true;
}

}  // namespace lsr
