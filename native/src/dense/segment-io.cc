// File handling mirrors sparse/segment-io.cc (temporary file, fsync, rename, directory fsync;
// read-only mmap; the same order of checks), over the dense header and sections.
#include "dense/segment-io.h"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/crc32c.h"

namespace lsr::dense {

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

bool lengths_consistent(const Header& h) {
  const uint64_t n = h.n_docs, m = h.hnsw_m;
  const bool i8 = h.flags & kInt8, graph = h.flags & kHasGraph;
  if (h.stride != stride_of(h.dim) || h.dim == 0) return false;
  if (graph && (m == 0 || n == 0)) return false;
  const auto& S = h.sections;
  if (S[kDocnos].length != 4 * n || S[kVectors].length != n * h.stride * (i8 ? 1 : 4) ||
      S[kScales].length != (i8 ? 4 * n : 0) || S[kLinks0].length != (graph ? 4 * n * (1 + 2 * m) : 0) ||
      S[kUpperOffsets].length != (graph ? 8 * (n + 1) : 0) ||
      (graph ? S[kUpperLinks].length % (4 * (1 + m)) != 0 : S[kUpperLinks].length != 0))
    return false;
  return !graph || h.hnsw_entry < n;
}

// Graph links index rows directly during a walk: check every id and count once at open, so a
// damaged-but-checksummed file (or a bug) cannot send a search out of bounds.
bool graph_consistent(const Segment& s) {
  if (!s.has_graph()) return true;
  const Header& h = s.header();
  const uint64_t n = h.n_docs, m = h.hnsw_m;
  const uint64_t* off = s.sec<uint64_t>(kUpperOffsets);
  const uint64_t blocks = s.sec_len(kUpperLinks) / (4 * (1 + m));
  if (off[0] != 0 || off[n] != blocks) return false;
  for (uint64_t i = 0; i < n; ++i)
    if (off[i + 1] < off[i] || off[i + 1] - off[i] > 15) return false;
  if (s.level(h.hnsw_entry) != h.hnsw_max_level) return false;
  auto ok = [&](const uint32_t* l, uint64_t cap) {
    if (l[0] > cap) return false;
    for (uint32_t i = 1; i <= l[0]; ++i)
      if (l[i] >= n) return false;
    return true;
  };
  for (uint64_t i = 0; i < n; ++i) {
    if (!ok(s.links0(static_cast<uint32_t>(i)), 2 * m)) return false;
    for (uint32_t lvl = 1; lvl <= s.level(static_cast<uint32_t>(i)); ++lvl)
      if (!ok(s.links(static_cast<uint32_t>(i), lvl), m)) return false;
  }
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
  const std::string what = "dense segment file '" + path + "'";
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
    err = {"SEGMENT_TRUNCATED", what + " is truncated: " + std::to_string(size) + " bytes, smaller than its header"};
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
    err = {"SEGMENT_CORRUPT", what + " has a bad magic number (not a dense segment file)"};
    return nullptr;
  }
  if (h.version != kFormatVersion) {
    err = {"SEGMENT_VERSION", what + " has format version " + std::to_string(h.version) + ", this build reads version " +
                                  std::to_string(kFormatVersion)};
    return nullptr;
  }
  if (crc32c(&h, offsetof(Header, header_crc32c)) != h.header_crc32c) {
    err = {"SEGMENT_CORRUPT", what + " has a corrupt header (checksum mismatch)"};
    return nullptr;
  }
  if (h.section_count != kSectionCount || !lengths_consistent(h)) {
    err = {"SEGMENT_CORRUPT", what + " has an inconsistent section table"};
    return nullptr;
  }
  uint64_t need = 0;
  for (uint32_t s = 0; s < kSectionCount; ++s) {
    if (h.sections[s].offset % 64 != 0 || h.sections[s].offset < sizeof(Header)) {
      err = {"SEGMENT_CORRUPT", what + " has a misaligned section " + std::to_string(s)};
      return nullptr;
    }
    need = std::max(need, h.sections[s].offset + h.sections[s].length);
  }
  if (need > size) {
    err = {"SEGMENT_TRUNCATED", what + " is truncated: " + std::to_string(size) + " bytes, its sections need " +
                                    std::to_string(need)};
    return nullptr;
  }
  for (uint32_t s = 0; s < kSectionCount; ++s) {
    const auto& e = h.sections[s];
    if (crc32c(static_cast<const uint8_t*>(p) + e.offset, e.length) != e.crc32c) {
      err = {"SEGMENT_CORRUPT", what + " failed its checksum in section " + std::to_string(s)};
      return nullptr;
    }
  }
  auto seg = std::make_shared<Segment>(std::move(img));
  if (!graph_consistent(*seg)) {
    err = {"SEGMENT_CORRUPT", what + " has graph links outside the segment"};
    return nullptr;
  }
  return seg;
}

}  // namespace lsr::dense
