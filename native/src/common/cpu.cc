#include "common/cpu.h"

#include <cstdlib>
#include <cstring>
#include <initializer_list>

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#endif

namespace lsr::cpu {

static Level detect() {
  Level best = Level::Scalar;
#if defined(__x86_64__) || defined(__i386__)
  __builtin_cpu_init();
  // F16C (CPUID.1:ECX bit 29) converts stored f16 weights; every AVX2 CPU has it, but ask.
  unsigned a = 0, b = 0, c = 0, d = 0;
  const bool f16c = __get_cpuid(1, &a, &b, &c, &d) && ((c >> 29) & 1);
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") && f16c) best = Level::Avx2;
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

// An AVX-512 extension: CPUID leaf 7, `subleaf`, register EAX (`ecx_reg` false) or ECX, bit `bit`, on
// top of the Avx512 level. LSR_SIMD, when set, allows it only if it names one of `caps`.
static bool detect_ext(unsigned subleaf, bool ecx_reg, unsigned bit, std::initializer_list<const char*> caps) {
  if (level() != Level::Avx512) return false;
  if (const char* cap = std::getenv("LSR_SIMD")) {
    bool allowed = false;
    for (const char* c : caps) allowed |= !std::strcmp(cap, c);
    if (!allowed) return false;
  }
#if defined(__x86_64__) || defined(__i386__)
  unsigned a = 0, b = 0, c = 0, d = 0;
  if (!__get_cpuid_count(7, subleaf, &a, &b, &c, &d)) return false;
  return ((ecx_reg ? c : a) >> bit) & 1;
#else
  return false;
#endif
}

bool avx512_bf16() {
  static const bool b = detect_ext(1, false, 5, {"avx512bf16"});  // CPUID.(EAX=7,ECX=1):EAX[5]
  return b;
}

bool avx512_vnni() {
  static const bool v = detect_ext(0, true, 11, {"avx512bf16", "avx512vnni"});  // CPUID.(EAX=7,ECX=0):ECX[11]
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
