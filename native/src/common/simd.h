// The x86 intrinsics, included once for every file with SIMD kernels. GCC 12's AVX-512 headers
// trip its own -Wmaybe-uninitialized / -Wuninitialized on the deliberately undefined vectors they
// start from (_mm512_undefined_*; GCC bug 105593), once per inlining site: silenced for the header's
// lines only, so a real uninitialized read in our code still warns.
#pragma once

#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"
#endif
#include <immintrin.h>
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif
