// N-API binding of the CUDA trunk (native/cuda/trunk.h), built by native/cuda/trunk-build.sh into
// build/cuda/lsr_cuda_trunk.node. Plain C N-API (node_api.h), so it builds with nvcc/g++ and the
// Node headers alone, beside (not inside) binding.gyp's CPU addon.
//
//   probe() -> { ok, devices, reason }
//   create(config, tensors: Float32Array[]) -> handle
//   encode(handle, ids: Int32Array, mask: Uint8Array, texts, seq, { head, threshold, topk, dense })
//     -> Promise<{ offsets, terms, weights, dense?, head, trunkMs, headMs, copyMs }>  (libuv thread)
//   release(handle)
#include <node_api.h>

#include <cuda_runtime.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <string>
#include <vector>

#include "trunk.h"

namespace {

#define NAPI(call)                                        \
  do {                                                    \
    if ((call) != napi_ok) return throw_last(env, #call); \
  } while (0)

napi_value throw_last(napi_env env, const char* what) {
  const napi_extended_error_info* info = nullptr;
  napi_get_last_error_info(env, &info);
  bool pending = false;
  napi_is_exception_pending(env, &pending);
  if (!pending) napi_throw_error(env, "CUDA_ADDON", (std::string(what) + ": " + (info && info->error_message ? info->error_message : "napi error")).c_str());
  return nullptr;
}

napi_value throw_msg(napi_env env, const char* code, const std::string& msg) {
  napi_throw_error(env, code, msg.c_str());
  return nullptr;
}

struct Handle {
  lsr_trunk* t = nullptr;
  int vocab = 0;
};

void finalize_handle(napi_env, void* data, void*) {
  auto* h = static_cast<Handle*>(data);
  lsr_trunk_destroy(h->t);
  delete h;
}

bool get_int(napi_env env, napi_value obj, const char* key, int* out) {
  napi_value v;
  bool has = false;
  if (napi_has_named_property(env, obj, key, &has) != napi_ok || !has) return false;
  if (napi_get_named_property(env, obj, key, &v) != napi_ok) return false;
  int32_t i;
  if (napi_get_value_int32(env, v, &i) != napi_ok) return false;
  *out = i;
  return true;
}

bool get_double(napi_env env, napi_value obj, const char* key, double* out) {
  napi_value v;
  bool has = false;
  if (napi_has_named_property(env, obj, key, &has) != napi_ok || !has) return false;
  if (napi_get_named_property(env, obj, key, &v) != napi_ok) return false;
  napi_valuetype t;
  napi_typeof(env, v, &t);
  if (t != napi_number) return false;
  return napi_get_value_double(env, v, out) == napi_ok;
}

bool typed(napi_env env, napi_value v, napi_typedarray_type want, void** data, size_t* len) {
  bool is = false;
  if (napi_is_typedarray(env, v, &is) != napi_ok || !is) return false;
  napi_typedarray_type t;
  napi_value ab;
  size_t off;
  if (napi_get_typedarray_info(env, v, &t, len, data, &ab, &off) != napi_ok) return false;
  return t == want;
}

napi_value probe(napi_env env, napi_callback_info) {
  int n = 0;
  cudaError_t e = cudaGetDeviceCount(&n);
  napi_value o, ok, devices, reason;
  NAPI(napi_create_object(env, &o));
  NAPI(napi_get_boolean(env, e == cudaSuccess && n > 0, &ok));
  NAPI(napi_create_int32(env, e == cudaSuccess ? n : 0, &devices));
  std::string why = e != cudaSuccess ? cudaGetErrorString(e) : n == 0 ? "no CUDA device" : "";
  NAPI(napi_create_string_utf8(env, why.c_str(), why.size(), &reason));
  NAPI(napi_set_named_property(env, o, "ok", ok));
  NAPI(napi_set_named_property(env, o, "devices", devices));
  NAPI(napi_set_named_property(env, o, "reason", reason));
  return o;
}

napi_value create(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  NAPI(napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr));
  if (argc < 2) return throw_msg(env, "INVALID_ARGUMENT", "create(config, tensors)");
  lsr_trunk_config c{};
  c.eps = 1e-12f;
  c.type_vocab = 2;
  const char* keys[] = {"layers", "hidden", "heads", "intermediate", "vocab", "maxPos"};
  int* dst[] = {&c.layers, &c.hidden, &c.heads, &c.intermediate, &c.vocab, &c.max_pos};
  for (int i = 0; i < 6; i++)
    if (!get_int(env, argv[0], keys[i], dst[i])) return throw_msg(env, "INVALID_ARGUMENT", std::string("config.") + keys[i] + " must be an integer");
  get_int(env, argv[0], "typeVocab", &c.type_vocab);
  get_int(env, argv[0], "device", &c.device);
  double eps;
  if (get_double(env, argv[0], "eps", &eps)) c.eps = (float)eps;
  napi_value prec;
  bool has = false;
  napi_has_named_property(env, argv[0], "precision", &has);
  if (has) {
    NAPI(napi_get_named_property(env, argv[0], "precision", &prec));
    char buf[16] = {0};
    size_t n = 0;
    napi_get_value_string_utf8(env, prec, buf, sizeof buf, &n);
    if (!strcmp(buf, "fp32")) c.precision = LSR_TRUNK_FP32;
    else if (!strcmp(buf, "bf16")) c.precision = LSR_TRUNK_BF16;
    else if (!strcmp(buf, "fp16")) c.precision = LSR_TRUNK_FP16;
    else return throw_msg(env, "INVALID_ARGUMENT", "config.precision must be 'bf16', 'fp16' or 'fp32'");
  }
  uint32_t len = 0;
  bool is_array = false;
  NAPI(napi_is_array(env, argv[1], &is_array));
  if (!is_array) return throw_msg(env, "INVALID_ARGUMENT", "tensors must be an array of Float32Array");
  NAPI(napi_get_array_length(env, argv[1], &len));
  const int want = lsr_trunk_tensor_count(c.layers);
  if ((int)len != want) return throw_msg(env, "INVALID_ARGUMENT", "expected " + std::to_string(want) + " tensors, got " + std::to_string(len));
  std::vector<const float*> ptrs(len);
  for (uint32_t i = 0; i < len; i++) {
    napi_value el;
    NAPI(napi_get_element(env, argv[1], i, &el));
    void* data;
    size_t n;
    if (!typed(env, el, napi_float32_array, &data, &n)) return throw_msg(env, "INVALID_ARGUMENT", "tensor " + std::to_string(i) + " is not a Float32Array");
    ptrs[i] = static_cast<const float*>(data);
  }
  // Sizes are checked on the TS side (gpu-weights.ts), which knows the names.
  lsr_trunk* t = lsr_trunk_create(&c, ptrs.data());
  if (!t) return throw_msg(env, "CUDA_FAILED", std::string("lsr_trunk_create: ") + lsr_trunk_last_error());
  auto* h = new Handle{t, c.vocab};
  napi_value ext;
  NAPI(napi_create_external(env, h, finalize_handle, nullptr, &ext));
  return ext;
}

struct EncodeWork {
  Handle* h;
  napi_ref handle_ref;
  std::vector<int32_t> ids;
  std::vector<uint8_t> mask;
  int texts, seq, head, topk;
  float threshold;
  bool dense;
  std::vector<float> out;
  std::vector<uint32_t> offsets, terms;
  std::vector<float> weights;
  int rc = 0;
  std::string error, head_name, attention;
  float trunk_ms = 0, head_ms = 0, copy_ms = 0;
  napi_deferred deferred;
  napi_async_work work;
};

void execute(napi_env, void* data) {
  auto* w = static_cast<EncodeWork*>(data);
  const size_t V = w->h->vocab;
  w->out.assign((size_t)w->texts * V, 0.f);
  w->rc = lsr_trunk_encode(w->h->t, w->ids.data(), w->mask.data(), w->texts, w->seq, w->head, w->out.data());
  if (w->rc) {
    w->error = lsr_trunk_last_error();
    return;
  }
  w->head_name = lsr_trunk_head_name(w->h->t);
  w->attention = lsr_trunk_attention_name(w->h->t);
  lsr_trunk_last_timing(w->h->t, &w->trunk_ms, &w->head_ms, &w->copy_ms);
  // Sparse rows: weights > threshold, the top k when topk > 0, terms ascending.
  w->offsets.assign(w->texts + 1, 0);
  size_t positive = 0;
  for (float v : w->out) {
    if (!std::isfinite(v)) {
      // fp16 activations out of range (or a broken model): refuse rather than index garbage.
      w->rc = 3;
      w->error = "the encoder produced a non-finite weight (fp16 overflow? try precision 'bf16' or 'fp32')";
      return;
    }
    positive += v > w->threshold;
  }
  const size_t cap = w->topk > 0 ? std::min(positive, (size_t)w->topk * w->texts) : positive;
  w->terms.reserve(cap);
  w->weights.reserve(cap);
  std::vector<uint32_t> row;
  for (int b = 0; b < w->texts; b++) {
    const float* o = w->out.data() + (size_t)b * V;
    row.clear();
    for (uint32_t v = 0; v < V; v++)
      if (o[v] > w->threshold) row.push_back(v);
    if (w->topk > 0 && row.size() > (size_t)w->topk) {
      std::nth_element(row.begin(), row.begin() + w->topk, row.end(),
                       [o](uint32_t a, uint32_t c) { return o[a] > o[c] || (o[a] == o[c] && a < c); });
      row.resize(w->topk);
      std::sort(row.begin(), row.end());
    }
    for (uint32_t v : row) {
      w->terms.push_back(v);
      w->weights.push_back(o[v]);
    }
    w->offsets[b + 1] = (uint32_t)w->terms.size();
  }
  if (!w->dense) std::vector<float>().swap(w->out);
}

napi_value typed_copy(napi_env env, napi_typedarray_type type, const void* src, size_t n, size_t elem) {
  napi_value ab, arr;
  void* data = nullptr;
  if (napi_create_arraybuffer(env, n * elem, &data, &ab) != napi_ok) return nullptr;
  if (n) std::memcpy(data, src, n * elem);
  if (napi_create_typedarray(env, type, n, ab, 0, &arr) != napi_ok) return nullptr;
  return arr;
}

void complete(napi_env env, napi_status, void* data) {
  auto* w = static_cast<EncodeWork*>(data);
  if (w->rc) {
    napi_value msg, code, err;
    const std::string m = "CUDA encode failed: " + w->error;
    napi_create_string_utf8(env, m.c_str(), m.size(), &msg);
    napi_create_string_utf8(env, "CUDA_FAILED", NAPI_AUTO_LENGTH, &code);
    napi_create_error(env, code, msg, &err);
    napi_reject_deferred(env, w->deferred, err);
  } else {
    napi_value o, v;
    napi_create_object(env, &o);
    napi_set_named_property(env, o, "offsets", typed_copy(env, napi_uint32_array, w->offsets.data(), w->offsets.size(), 4));
    napi_set_named_property(env, o, "terms", typed_copy(env, napi_uint32_array, w->terms.data(), w->terms.size(), 4));
    napi_set_named_property(env, o, "weights", typed_copy(env, napi_float32_array, w->weights.data(), w->weights.size(), 4));
    if (w->dense) napi_set_named_property(env, o, "dense", typed_copy(env, napi_float32_array, w->out.data(), w->out.size(), 4));
    napi_create_string_utf8(env, w->head_name.c_str(), w->head_name.size(), &v);
    napi_set_named_property(env, o, "head", v);
    napi_create_string_utf8(env, w->attention.c_str(), w->attention.size(), &v);
    napi_set_named_property(env, o, "attention", v);
    napi_create_double(env, w->trunk_ms, &v);
    napi_set_named_property(env, o, "trunkMs", v);
    napi_create_double(env, w->head_ms, &v);
    napi_set_named_property(env, o, "headMs", v);
    napi_create_double(env, w->copy_ms, &v);
    napi_set_named_property(env, o, "copyMs", v);
    napi_resolve_deferred(env, w->deferred, o);
  }
  napi_delete_reference(env, w->handle_ref);
  napi_delete_async_work(env, w->work);
  delete w;
}

napi_value encode(napi_env env, napi_callback_info info) {
  size_t argc = 6;
  napi_value argv[6];
  NAPI(napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr));
  if (argc < 5) return throw_msg(env, "INVALID_ARGUMENT", "encode(handle, ids, mask, texts, seq, options)");
  Handle* h = nullptr;
  NAPI(napi_get_value_external(env, argv[0], reinterpret_cast<void**>(&h)));
  if (!h || !h->t) return throw_msg(env, "INVALID_ARGUMENT", "the encoder was released");
  int32_t texts, seq;
  NAPI(napi_get_value_int32(env, argv[3], &texts));
  NAPI(napi_get_value_int32(env, argv[4], &seq));
  void *ids, *mask;
  size_t nids, nmask;
  if (!typed(env, argv[1], napi_int32_array, &ids, &nids)) return throw_msg(env, "INVALID_ARGUMENT", "ids must be an Int32Array");
  if (!typed(env, argv[2], napi_uint8_array, &mask, &nmask)) return throw_msg(env, "INVALID_ARGUMENT", "mask must be a Uint8Array");
  if (texts < 0 || seq < 0 || nids != (size_t)texts * seq || nmask != nids)
    return throw_msg(env, "INVALID_ARGUMENT", "ids and mask must hold texts × seq values");
  auto* w = new EncodeWork();
  w->h = h;
  w->texts = texts;
  w->seq = seq;
  w->head = LSR_HEAD_AUTO;
  w->topk = 0;
  w->threshold = 0.f;
  w->dense = false;
  if (argc >= 6) {
    napi_valuetype t;
    napi_typeof(env, argv[5], &t);
    if (t == napi_object) {
      int k;
      double th;
      if (get_int(env, argv[5], "topk", &k)) w->topk = k;
      if (get_double(env, argv[5], "threshold", &th)) w->threshold = (float)th;
      napi_value v;
      bool has = false;
      napi_has_named_property(env, argv[5], "dense", &has);
      if (has) {
        napi_get_named_property(env, argv[5], "dense", &v);
        napi_get_value_bool(env, v, &w->dense);
      }
      napi_has_named_property(env, argv[5], "head", &has);
      if (has) {
        napi_get_named_property(env, argv[5], "head", &v);
        char buf[16] = {0};
        size_t n;
        napi_get_value_string_utf8(env, v, buf, sizeof buf, &n);
        if (!strcmp(buf, "simple")) w->head = LSR_HEAD_SIMPLE;
      }
    }
  }
  w->ids.assign(static_cast<int32_t*>(ids), static_cast<int32_t*>(ids) + nids);
  w->mask.assign(static_cast<uint8_t*>(mask), static_cast<uint8_t*>(mask) + nmask);
  NAPI(napi_create_reference(env, argv[0], 1, &w->handle_ref));
  napi_value promise, name;
  NAPI(napi_create_promise(env, &w->deferred, &promise));
  NAPI(napi_create_string_utf8(env, "lsr_cuda_encode", NAPI_AUTO_LENGTH, &name));
  NAPI(napi_create_async_work(env, nullptr, name, execute, complete, w, &w->work));
  NAPI(napi_queue_async_work(env, w->work));
  return promise;
}

napi_value release(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  NAPI(napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr));
  Handle* h = nullptr;
  NAPI(napi_get_value_external(env, argv[0], reinterpret_cast<void**>(&h)));
  if (h && h->t) {
    lsr_trunk_destroy(h->t);
    h->t = nullptr;
  }
  return nullptr;
}

napi_value device_name(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1], s;
  NAPI(napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr));
  Handle* h = nullptr;
  NAPI(napi_get_value_external(env, argv[0], reinterpret_cast<void**>(&h)));
  const char* n = h && h->t ? lsr_trunk_device_name(h->t) : "";
  NAPI(napi_create_string_utf8(env, n, NAPI_AUTO_LENGTH, &s));
  return s;
}

// profile(handle[, on]) -> { <step>: ms, ..., batches } so far; then a boolean `on` switches profiling and clears the sums.
napi_value profile(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2], o, v;
  NAPI(napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr));
  Handle* h = nullptr;
  NAPI(napi_get_value_external(env, argv[0], reinterpret_cast<void**>(&h)));
  NAPI(napi_create_object(env, &o));
  if (!h || !h->t) return o;
  const char* names[32] = {nullptr};
  float ms[32];
  const int batches = lsr_trunk_profile(h->t, names, ms, 32);  // the sums so far, before any switch clears them
  if (argc >= 2) {
    bool on = false;
    if (napi_get_value_bool(env, argv[1], &on) == napi_ok) lsr_trunk_set_profile(h->t, on);
  }
  for (int i = 0; i < 32 && names[i]; i++) {
    NAPI(napi_create_double(env, ms[i], &v));
    NAPI(napi_set_named_property(env, o, names[i], v));
  }
  NAPI(napi_create_int32(env, batches, &v));
  NAPI(napi_set_named_property(env, o, "batches", v));
  return o;
}

napi_value init(napi_env env, napi_value exports) {
  napi_property_descriptor props[] = {
      {"probe", nullptr, probe, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"create", nullptr, create, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"encode", nullptr, encode, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"release", nullptr, release, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"deviceName", nullptr, device_name, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"profile", nullptr, profile, nullptr, nullptr, nullptr, napi_default, nullptr},
  };
  napi_define_properties(env, exports, sizeof props / sizeof *props, props);
  return exports;
}

}  // namespace

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
