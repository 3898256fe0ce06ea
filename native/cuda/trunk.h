// C ABI of the CUDA BERT trunk (issue 7: documents encoded on the GPU, from Node).
//
// A BERT masked-LM's trunk on the GPU: embeddings + LayerNorm, `layers` × (self-attention with the
// padding mask, residual + LayerNorm, GELU feed-forward, residual + LayerNorm), then the MLM head's
// transform (dense + GELU + LayerNorm): the hidden states the fused sparse head pools
// (docs/encoder-model-format.md, split layout). GEMMs are cuBLAS (bf16 or fp16 inputs, fp32
// accumulation, or fp32 throughout), the rest small kernels; the residual stream and every LayerNorm are fp32.
// The last hidden states stay on the device and go straight into the sparse head:
// build/cuda/liblsr_cuda_head.so (native/cuda/sparse-head.h, the fused head) when it can be loaded
// and the precision is bf16 or fp16, else this file's own simple head (a cuBLAS logits
// GEMM over chunks of texts + a masked max/ReLU/log1p pass: correct, not fused).
#pragma once

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

enum lsr_trunk_precision { LSR_TRUNK_BF16 = 0, LSR_TRUNK_FP32 = 1, LSR_TRUNK_FP16 = 2 };

typedef struct lsr_trunk_config {
  int layers, hidden, heads, intermediate, vocab, max_pos, type_vocab;
  float eps;        // LayerNorm epsilon (BERT: 1e-12)
  int precision;    // lsr_trunk_precision
  int device;       // CUDA device ordinal
} lsr_trunk_config;

// Host fp32 tensors, torch layouts (Linear weights [out, in], row-major), in this order:
//   0 word [vocab, hidden]  1 position [max_pos, hidden]  2 token type [type_vocab, hidden]
//   3 embeddings LayerNorm gamma [hidden]  4 beta [hidden]
//   per layer l, from 5 + 16 l: query W, b; key W, b; value W, b; attention output W [h, h], b;
//     LayerNorm 1 gamma, beta; intermediate W [inter, hidden], b [inter]; output W [hidden, inter], b;
//     LayerNorm 2 gamma, beta
//   then: transform W [h, h], b, transform LayerNorm gamma, beta, decoder W [vocab, hidden], decoder bias [vocab]
int lsr_trunk_tensor_count(int layers);

typedef struct lsr_trunk lsr_trunk;

// Uploads the weights. NULL on failure (lsr_trunk_last_error()).
lsr_trunk* lsr_trunk_create(const lsr_trunk_config* cfg, const float* const* tensors);
void lsr_trunk_destroy(lsr_trunk* t);

enum lsr_trunk_head { LSR_HEAD_AUTO = 0, LSR_HEAD_SIMPLE = 1 };

// Encodes one padded batch: ids and mask [texts, seq] (host). Writes the dense SPLADE weights
// [texts, vocab] to `out` (host). Synchronous; one call at a time per trunk. 0 = ok.
int lsr_trunk_encode(lsr_trunk* t, const int32_t* ids, const uint8_t* mask, int texts, int seq,
                     int head, float* out);

// Which head the last encode used ("fused" = liblsr_cuda_head.so, "simple"), and the device name.
const char* lsr_trunk_head_name(lsr_trunk* t);
const char* lsr_trunk_device_name(lsr_trunk* t);
// Which attention the last encode ran: "cublas" (batched GEMMs + masked softmax, the default) or
// "fused" (one kernel; opt-in with LSR_TRUNK_ATTENTION=fused, fp16/bf16, head size 64, seq % 16 == 0).
const char* lsr_trunk_attention_name(lsr_trunk* t);

// Milliseconds of the last encode's phases on the GPU (CUDA events): trunk, head, copy back.
void lsr_trunk_last_timing(lsr_trunk* t, float* trunk_ms, float* head_ms, float* copy_ms);

const char* lsr_trunk_last_error(void);

// Profiling: after lsr_trunk_set_profile(t, 1) (which also clears the sums), GPU milliseconds per
// trunk step (QKV GEMM, softmax, LayerNorm, ...) summed over all layers and batches since. Fills
// min(n, steps) names/values (names may be NULL), returns the number of batches profiled.
void lsr_trunk_set_profile(lsr_trunk* t, int on);
int lsr_trunk_profile(lsr_trunk* t, const char** names, float* ms, int n);

#ifdef __cplusplus
}
#endif
