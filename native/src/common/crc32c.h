// CRC32C (Castagnoli), the checksum of every segment section. Hardware instruction where the CPU
// has SSE4.2, a table otherwise; both give the same value.
#pragma once

#include <cstddef>
#include <cstdint>

namespace lsr {

uint32_t crc32c(const void* data, size_t n, uint32_t crc = 0);

}  // namespace lsr
