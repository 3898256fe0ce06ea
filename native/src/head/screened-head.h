// The screened head: exact f32 SPLADE output at int8 cost, for heads whose output is sparse.
//
// A trained SPLADE head leaves ~1% of the vocabulary non-zero per text: for almost every (text, v)
// every token's logit H[t]·W[v] + b[v] is negative, and log1p∘relu sends the term to 0. The screen
// proves that cheaply: it computes every dot product in int8 (AVX512_VNNI vpdpbusd: 4× the
// multiply-adds per instruction of f32 FMA) and adds a rigorous bound of the quantization error,
//   |H·W − Ĥ·Ŵ| ≤ ‖H − Ĥ‖·‖W‖ + ‖Ĥ‖·‖W − Ŵ‖   (Ĥ, Ŵ the dequantized rows; Cauchy–Schwarz twice)
// plus a slack for f32 rounding. A term whose bound stays ≤ 0 over all tokens is 0 in the f32 kernel
// too; every other term (the candidates) is recomputed by the f32 panel kernel on its own row, so the
// output is bit-identical to the plain f32 head. No approximation is made anywhere.
//
// The weights' int8 panels, scales, norms and error norms are prepared once per model (ScreenWeights).
// When a model's output is not sparse (the candidates are most of the vocabulary) the screen only adds
// work; the prepared object notices and the binding runs the plain kernel for a while (see use()).
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <vector>

#include "head/fused-head.h"

namespace lsr::head {

struct ScreenWeights {
  uint32_t vocab = 0, dim = 0, quads = 0, panels = 0;
  std::vector<int8_t> wq;        // [panels][quads][64 rows][4]: row r's dims 4k..4k+3 at [k][r]
  std::vector<float> scale;      // [panels × 64] s_v: W[v] ≈ s_v · wq[v]
  std::vector<int32_t> colsum;   // 128 · Σ_k wq[v][k]: the hidden bytes are stored +128 (unsigned)
  std::vector<float> norm;       // ‖W[v]‖, rounded up (+inf for a row with a non-finite value)
  std::vector<float> qerr;       // ‖W[v] − s_v·wq[v]‖, rounded up
  // Adaptive use: after a call whose candidates exceed half the (text, v) pairs, the next kSkip
  // calls run the plain kernel; then the screen is tried again.
  std::atomic<uint32_t> skip{0};
  std::atomic<uint64_t> calls_screened{0}, calls_plain{0}, pairs{0}, candidates{0};
  static constexpr uint32_t kSkip = 16;
};

// Whether this CPU (after LSR_SIMD) can run the screen: AVX-512 with VNNI.
bool screen_supported();

// Prepares f32 weights [vocab, dim]; nullptr where the screen is not supported.
std::unique_ptr<ScreenWeights> prepare_screen(const float* weights, uint32_t vocab, uint32_t dim, uint32_t threads);

// Dense output [texts, vocab], bit-identical to fused_head with the f32 weights `sw` was prepared
// from (in.weights must be those f32 weights). Runs the plain kernel when sw's adaptive rule says so.
void screened_head(const HeadInput& in, ScreenWeights& sw, float* out);

}  // namespace lsr::head
