#include "common/cpu.h"

#include <cstdlib>
#include <cstring>

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#endif

namespace lsr::cpu {

static Level detect() {
  Level best = Level::Scalar;
#if defined(__x86_64__) || defined(__i386__)
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) best = Level::Avx2;
  if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
      __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512dq"))
    best = Level::Avx512;
#endif
  if (const char* cap = std::getenv("LSR_SIMD")) {
    Level want = best;
    if (!std::strcmp(cap, "scalar")) want = Level::Scalar;
    else if (!std::strcmp(cap, "avx2")) want = Level::Avx2;
    else if (!std::strcmp(cap, "avx512")) want = Level::Avx512;
    if (static_cast<int>(want) < static_cast<int>(best)) best = want;
  }
  return best;
}

Level level() {
  static const Level l = detect();
  return l;
}

static bool detect_bf16() {
  if (level() != Level::Avx512) return false;
  if (const char* cap = std::getenv("LSR_SIMD"))
    if (std::strcmp(cap, "avx512bf16") != 0) return false;
#if defined(__x86_64__) || defined(__i386__)
  unsigned a = 0, b = 0, c = 0, d = 0;
  if (!__get_cpuid_count(7, 1, &a, &b, &c, &d)) return false;
  return (a >> 5) & 1;  // CPUID.(EAX=7,ECX=1):EAX[5] = AVX512_BF16
#else
  return false;
#endif
}

bool avx512_bf16() {
  static const bool b = detect_bf16();
  return b;
}

static bool detect_vnni() {
  if (level() != Level::Avx512) return false;
  if (const char* cap = std::getenv("LSR_SIMD"))
    if (std::strcmp(cap, "avx512bf16") != 0 && std::strcmp(cap, "avx512vnni") != 0) return false;
#if defined(__x86_64__) || defined(__i386__)
  unsigned a = 0, b = 0, c = 0, d = 0;
  if (!__get_cpuid_count(7, 0, &a, &b, &c, &d)) return false;
  return (c >> 11) & 1;  // CPUID.(EAX=7,ECX=0):ECX[11] = AVX512_VNNI
#else
  return false;
#endif
}

bool avx512_vnni() {
  static const bool v = detect_vnni();
  return v;
}

const char* level_name(Level l) {
  switch (l) {
    case Level::Avx512: return "avx512";
    case Level::Avx2: return "avx2";
    default: return "scalar";
  }
}

}  // namespace lsr::cpu
