// Saving and opening segment files (format: docs/segment-format.md).
#pragma once

#include <memory>
#include <string>

#include "common/segment-file.h"  // IoError
#include "sparse/segment.h"

namespace lsr::sparse {

// Writes to `path`.tmp, fsyncs, renames over `path`, fsyncs the directory. Empty IoError.code = ok.
IoError save_segment(const Segment& s, const std::string& path);

// Maps the file read-only and verifies magic, version, layout and every checksum.
std::shared_ptr<Segment> open_segment(const std::string& path, IoError& err);

}  // namespace lsr::sparse
