// Saving and opening dense segment files (docs/segment-format.md, "Dense segments"). Errors carry
// the sparse engine's codes (SEGMENT_TRUNCATED, SEGMENT_CORRUPT, SEGMENT_VERSION, SEGMENT_IO) and
// name the file.
#pragma once

#include <memory>
#include <string>

#include "common/segment-file.h"  // IoError
#include "dense/segment.h"

namespace lsr::dense {

IoError save_segment(const Segment& s, const std::string& path);
std::shared_ptr<Segment> open_segment(const std::string& path, IoError& err);

}  // namespace lsr::dense
