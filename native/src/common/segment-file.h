// File handling shared by the segment formats (sparse and dense; docs/segment-format.md): the
// atomic write, the read-only mapping, and the checks every format's header and section table get
// at open, in one order. Each format adds its own layout rules (`lengths_consistent`).
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string>

#include "common/crc32c.h"
#include "common/image.h"

namespace lsr {

struct IoError {
  std::string code;     // SEGMENT_TRUNCATED, SEGMENT_CORRUPT, SEGMENT_VERSION, SEGMENT_IO
  std::string message;  // names the file
};

// One entry of a segment's section table (the same in every format).
struct SectionEntry {
  uint64_t offset;
  uint64_t length;   // bytes
  uint32_t crc32c;
  uint32_t reserved;
};

// Where a build puts each section: 64-byte aligned, in section order, after the header (the layout
// check_sections verifies). Set `len`, call place(), then read `off` and `total`.
template <size_t HeaderSize, uint32_t N>
struct SectionLayout {
  uint64_t len[N] = {};
  uint64_t off[N] = {};
  uint64_t total = 0;
  void place() {
    uint64_t pos = (HeaderSize + 63) & ~uint64_t(63);
    for (uint32_t s = 0; s < N; ++s) {
      off[s] = pos;
      pos = (pos + len[s] + 63) & ~uint64_t(63);
    }
    total = pos;
  }
};

// Writes `n` bytes to `path`.tmp, fsyncs, renames over `path`, fsyncs the directory. Empty
// IoError.code = ok.
IoError write_file_atomic(const std::string& path, const void* data, size_t n);

// Maps `path` read-only. A file shorter than `min_size` (its format's header) is SEGMENT_TRUNCATED,
// reported as `what` (e.g. "segment file '<path>'"); system call failures are SEGMENT_IO.
std::unique_ptr<Image> map_file(const std::string& path, size_t min_size, const std::string& what, IoError& err);

// Every section 64-byte aligned and past the header, the file long enough for all of them, then
// every section's checksum.
bool check_sections(const Image& img, const SectionEntry* sections, uint32_t count, size_t header_size,
                    const std::string& what, IoError& err);

// What a segment format tells the shared open.
struct FileFormat {
  const char* kind;   // names the file in messages: "segment file", "dense segment file"
  const char* magic;  // 8 bytes
  uint32_t version;
};

// Maps a segment file and verifies magic, version, header checksum, section table (count and the
// format's `lengths_consistent`), layout and every section checksum, in that order. `Header` has
// magic, version, section_count, sections[kSections] and header_crc32c over the bytes before it.
template <typename Header, uint32_t kSections>
std::unique_ptr<Image> open_verified(const std::string& path, const FileFormat& f,
                                     bool (*lengths_consistent)(const Header&), IoError& err) {
  const std::string what = std::string(f.kind) + " '" + path + "'";
  auto img = map_file(path, sizeof(Header), what, err);
  if (!img) return nullptr;
  Header h;
  std::memcpy(&h, img->data(), sizeof(Header));
  if (std::memcmp(h.magic, f.magic, 8) != 0) {
    err = {"SEGMENT_CORRUPT", what + " has a bad magic number (not a " + f.kind + ")"};
    return nullptr;
  }
  if (h.version != f.version) {
    err = {"SEGMENT_VERSION", what + " has format version " + std::to_string(h.version) +
                                  ", this build reads version " + std::to_string(f.version)};
    return nullptr;
  }
  if (crc32c(&h, offsetof(Header, header_crc32c)) != h.header_crc32c) {
    err = {"SEGMENT_CORRUPT", what + " has a corrupt header (checksum mismatch)"};
    return nullptr;
  }
  if (h.section_count != kSections || !lengths_consistent(h)) {
    err = {"SEGMENT_CORRUPT", what + " has an inconsistent section table"};
    return nullptr;
  }
  if (!check_sections(*img, h.sections, kSections, sizeof(Header), what, err)) return nullptr;
  return img;
}

}  // namespace lsr
