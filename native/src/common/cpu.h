// Runtime CPU feature detection. Kernels are compiled for several instruction sets with function
// target attributes and picked here once, so one binary runs on any x86-64 (and non-x86 builds fall
// back to scalar code) instead of being tied to the build machine by -march=native.
#pragma once

namespace lsr::cpu {

enum class Level { Scalar = 0, Avx2 = 1, Avx512 = 2 };

// The best level both the CPU and the build support; LSR_SIMD=scalar|avx2|avx512 caps it (for
// testing each path on one machine).
Level level();
const char* level_name(Level l);

// AVX512_BF16 (vdpbf16ps: 32 bf16 multiply-adds into f32 per instruction) on top of the Avx512 level.
// LSR_SIMD caps it like the levels: unset or avx512bf16 allows it; avx512, avx2 and scalar do not.
bool avx512_bf16();

// AVX512_VNNI (vpdpbusd: 64 int8 multiply-adds into int32 per instruction) on top of the Avx512 level;
// LSR_SIMD caps it like avx512_bf16 (unset, avx512bf16 or avx512vnni allow it).
bool avx512_vnni();

}  // namespace lsr::cpu
