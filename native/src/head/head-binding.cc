// N-API surface of the fused sparse LM head.
#include <napi.h>

#include <algorithm>
#include <numeric>
#include <vector>

#include "common/napi-util.h"
#include "head/fused-head.h"
#include "head/screened-head.h"

namespace lsr::head {

namespace {

using lsr::napi::throw_coded;

// fusedSparseHead(hidden: Float32Array, mask: Uint8Array, texts, seq, dim,
//                 weights: Float32Array | Uint16Array (bf16), bias: Float32Array | null, vocab,
//                 options: {threads, threshold, topk, dense, unfused, screen})
// options.screen: the External from prepareHeadScreen for these f32 weights (the screened head).
// -> {offsets: Uint32Array, terms: Uint32Array, weights: Float32Array} (terms ascending per text),
//    or {dense: Float32Array} with options.dense.
Napi::Value FusedSparseHead(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  HeadInput in{};
  float* hidden;
  uint8_t* mask;
  size_t nh, nm;
  if (info.Length() < 9 || !lsr::napi::typed<float, napi_float32_array>(info[0], hidden, nh) ||
      !lsr::napi::typed<uint8_t, napi_uint8_array>(info[1], mask, nm) || !info[2].IsNumber() ||
      !info[3].IsNumber() || !info[4].IsNumber() || !info[7].IsNumber() || !info[8].IsObject()) {
    throw_coded(env, "NATIVE_BAD_ARGUMENT", "fusedSparseHead(hidden, mask, texts, seq, dim, weights, bias, vocab, options)");
    return env.Null();
  }
  in.hidden = hidden;
  in.mask = mask;
  in.texts = info[2].As<Napi::Number>().Uint32Value();
  in.seq = info[3].As<Napi::Number>().Uint32Value();
  in.dim = info[4].As<Napi::Number>().Uint32Value();
  in.vocab = info[7].As<Napi::Number>().Uint32Value();
  size_t nw = 0;
  float* wf;
  uint16_t* wb;
  if (lsr::napi::typed<float, napi_float32_array>(info[5], wf, nw)) {
    in.weights = wf;
    in.weights_bf16 = false;
  } else if (lsr::napi::typed<uint16_t, napi_uint16_array>(info[5], wb, nw)) {
    in.weights = wb;
    in.weights_bf16 = true;
  }
  float* bias = nullptr;
  size_t nb = 0;
  if (!info[6].IsNull() && !info[6].IsUndefined() && !lsr::napi::typed<float, napi_float32_array>(info[6], bias, nb)) {
    throw_coded(env, "NATIVE_BAD_ARGUMENT", "bias must be a Float32Array or null");
    return env.Null();
  }
  in.bias = bias;
  // Memory-safety checks; the TypeScript layer gives the friendly messages.
  if (nh != size_t(in.texts) * in.seq * in.dim || nm != size_t(in.texts) * in.seq ||
      nw != size_t(in.vocab) * in.dim || (bias && nb != in.vocab) || in.dim == 0) {
    throw_coded(env, "NATIVE_BAD_ARGUMENT", "fusedSparseHead: array sizes do not match texts, seq, dim and vocab");
    return env.Null();
  }
  Napi::Object o = info[8].As<Napi::Object>();
  in.threads = std::max(1u, static_cast<uint32_t>(lsr::napi::num_opt(o, "threads", 1)));
  const float threshold = static_cast<float>(lsr::napi::num_opt(o, "threshold", 0));
  const uint32_t topk = static_cast<uint32_t>(lsr::napi::num_opt(o, "topk", 0));
  const bool dense = lsr::napi::bool_opt(o, "dense", false);
  const bool unfused = lsr::napi::bool_opt(o, "unfused", false);
  ScreenWeights* screen = nullptr;
  if (o.Has("screen") && o.Get("screen").IsExternal()) {
    screen = o.Get("screen").As<Napi::External<ScreenWeights>>().Data();
    if (in.weights_bf16 || screen->vocab != in.vocab || screen->dim != in.dim) {
      throw_coded(env, "NATIVE_BAD_ARGUMENT", "fusedSparseHead: options.screen was prepared for other weights");
      return env.Null();
    }
  }
  auto run = [&](float* out) {
    if (unfused) unfused_head(in, out);
    else if (screen) screened_head(in, *screen, out);
    else fused_head(in, out);
  };

  if (dense) {
    auto out = Napi::Float32Array::New(env, size_t(in.texts) * in.vocab);
    run(out.Data());
    Napi::Object r = Napi::Object::New(env);
    r.Set("dense", out);
    return r;
  }
  std::vector<float> out(size_t(in.texts) * in.vocab);
  run(out.data());
  std::vector<uint32_t> offsets(in.texts + 1, 0), terms;
  std::vector<float> weights;
  std::vector<uint32_t> idx;
  for (uint32_t x = 0; x < in.texts; ++x) {
    const float* row = out.data() + size_t(x) * in.vocab;
    idx.clear();
    for (uint32_t v = 0; v < in.vocab; ++v)
      if (row[v] > threshold) idx.push_back(v);
    if (topk && idx.size() > topk) {
      std::nth_element(idx.begin(), idx.begin() + topk, idx.end(), [&](uint32_t a, uint32_t b) {
        return row[a] != row[b] ? row[a] > row[b] : a < b;
      });
      idx.resize(topk);
      std::sort(idx.begin(), idx.end());
    }
    for (uint32_t v : idx) {
      terms.push_back(v);
      weights.push_back(row[v]);
    }
    offsets[x + 1] = static_cast<uint32_t>(terms.size());
  }
  auto jo = Napi::Uint32Array::New(env, offsets.size());
  auto jt = Napi::Uint32Array::New(env, terms.size());
  auto jw = Napi::Float32Array::New(env, weights.size());
  std::copy(offsets.begin(), offsets.end(), jo.Data());
  std::copy(terms.begin(), terms.end(), jt.Data());
  std::copy(weights.begin(), weights.end(), jw.Data());
  Napi::Object r = Napi::Object::New(env);
  r.Set("offsets", jo);
  r.Set("terms", jt);
  r.Set("weights", jw);
  return r;
}

// fusedHeadKernel(bf16: boolean) -> the kernel fusedSparseHead runs for f32 or bf16 weights on this CPU.
Napi::Value FusedHeadKernel(const Napi::CallbackInfo& info) {
  const bool bf16 = info.Length() > 0 && info[0].IsBoolean() && info[0].As<Napi::Boolean>().Value();
  return Napi::String::New(info.Env(), head_kernel_name(bf16));
}

// prepareHeadScreen(weights: Float32Array, vocab, dim, threads) -> External | null (no AVX512_VNNI):
// the int8 panels and bounds of the screened head, prepared once per model.
Napi::Value PrepareHeadScreen(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  float* w;
  size_t nw;
  if (info.Length() < 4 || !lsr::napi::typed<float, napi_float32_array>(info[0], w, nw) || !info[1].IsNumber() ||
      !info[2].IsNumber() || !info[3].IsNumber()) {
    throw_coded(env, "NATIVE_BAD_ARGUMENT", "prepareHeadScreen(weights, vocab, dim, threads)");
    return env.Null();
  }
  const uint32_t vocab = info[1].As<Napi::Number>().Uint32Value(), dim = info[2].As<Napi::Number>().Uint32Value();
  if (nw != size_t(vocab) * dim) {
    throw_coded(env, "NATIVE_BAD_ARGUMENT", "prepareHeadScreen: weights do not hold vocab × dim values");
    return env.Null();
  }
  auto sw = prepare_screen(w, vocab, dim, std::max(1u, info[3].As<Napi::Number>().Uint32Value()));
  if (!sw) return env.Null();
  const int64_t bytes = static_cast<int64_t>(sw->wq.size() + 16 * sw->scale.size());
  Napi::MemoryManagement::AdjustExternalMemory(env, bytes);
  return Napi::External<ScreenWeights>::New(env, sw.release(), [bytes](Napi::Env e, ScreenWeights* p) {
    Napi::MemoryManagement::AdjustExternalMemory(e, -bytes);
    delete p;
  });
}

// headScreenSupported() -> whether prepareHeadScreen gives a screen on this CPU (after LSR_SIMD).
Napi::Value HeadScreenSupported(const Napi::CallbackInfo& info) {
  return Napi::Boolean::New(info.Env(), screen_supported());
}

// headScreenStats(screen) -> {callsScreened, callsPlain, pairs, candidates}: how often the screen ran
// and what share of (text, term) pairs it left for the f32 kernel.
Napi::Value HeadScreenStats(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsExternal()) {
    throw_coded(env, "NATIVE_BAD_ARGUMENT", "headScreenStats(screen)");
    return env.Null();
  }
  const ScreenWeights* sw = info[0].As<Napi::External<ScreenWeights>>().Data();
  Napi::Object r = Napi::Object::New(env);
  r.Set("callsScreened", static_cast<double>(sw->calls_screened.load()));
  r.Set("callsPlain", static_cast<double>(sw->calls_plain.load()));
  r.Set("pairs", static_cast<double>(sw->pairs.load()));
  r.Set("candidates", static_cast<double>(sw->candidates.load()));
  return r;
}

}  // namespace

void init_bindings(Napi::Env env, Napi::Object exports) {
  exports.Set("fusedSparseHead", Napi::Function::New(env, FusedSparseHead));
  exports.Set("fusedHeadKernel", Napi::Function::New(env, FusedHeadKernel));
  exports.Set("prepareHeadScreen", Napi::Function::New(env, PrepareHeadScreen));
  exports.Set("headScreenStats", Napi::Function::New(env, HeadScreenStats));
  exports.Set("headScreenSupported", Napi::Function::New(env, HeadScreenSupported));
}

}  // namespace lsr::head
