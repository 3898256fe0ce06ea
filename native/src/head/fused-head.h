// The fused sparse LM head (the idea of Sparton): for each text, out[v] = log1p(relu(max over the
// text's unmasked tokens t of H[t]·W[v] + b[v])). Because log1p∘relu is monotonic it commutes with
// the max, so the kernel keeps only a running max of raw logits per vocabulary entry, tile by tile,
// and never holds a tokens × vocabulary buffer.
#pragma once

#include <cstdint>
#include <vector>

namespace lsr::head {

struct HeadInput {
  const float* hidden;     // [texts, seq, dim]
  const uint8_t* mask;     // [texts, seq], nonzero = token counts
  uint32_t texts, seq, dim;
  const void* weights;     // [vocab, dim], f32 or bf16 (upper 16 bits of an f32)
  bool weights_bf16;       // bf16 weights: the hidden states are rounded to bf16 too (bf16 × bf16 → f32)
  const float* bias;       // [vocab] or nullptr
  uint32_t vocab;
  uint32_t threads;
};

// Dense output [texts, vocab].
void fused_head(const HeadInput& in, float* out);

// The kernel fused_head runs on this CPU (after LSR_SIMD) for f32 or bf16 weights, e.g. "avx512bf16-panel".
const char* head_kernel_name(bool weights_bf16);

// Reference: materializes each text's [seq, vocab] logits, then pools. Same arithmetic order per
// dot product as fused_head's scalar path; used by the benchmark to show what fusion saves.
void unfused_head(const HeadInput& in, float* out);

}  // namespace lsr::head
