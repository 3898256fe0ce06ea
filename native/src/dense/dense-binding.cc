// N-API surface of the dense engine: the DenseSegment class and build/open/search/merge functions,
// shaped like the sparse binding. Typed arrays are read in place; arrays handed to an asynchronous
// call are pinned by a reference and must not be modified until its promise settles.
#include <napi.h>

#include <cstring>
#include <memory>
#include <vector>

#include "common/addon-data.h"
#include "common/napi-util.h"
#include "common/parallel.h"
#include "common/segment-binding.h"
#include "dense/kernels.h"
#include "dense/search.h"
#include "dense/segment-io.h"
#include "dense/segment.h"

namespace lsr::dense {

using lsr::napi::Pins;
using lsr::napi::queue;
using lsr::napi::throw_coded;

class SegmentWrap : public lsr::napi::SegmentWrapBase<SegmentWrap, Segment, lsr::dense::save_segment> {
 public:
  using SegmentWrapBase::SegmentWrapBase;
  static Napi::Function Define(Napi::Env env);
  static Napi::FunctionReference& ctor(Napi::Env env) { return addon_data(env).dense_segment_ctor; }

 private:
  friend SegmentWrapBase;
  static constexpr const char* kSectionNames[kSectionCount] = {
      "docnos", "vectors", "scales", "links0", "upperOffsets", "upperLinks"};
  void engine_stats(Napi::Object& o) const;
  Napi::Value Vector(const Napi::CallbackInfo& info);
};

namespace {

void parse_build_params(const Napi::Value& v, BuildParams& p) {
  if (!v.IsObject()) return;
  Napi::Object o = v.As<Napi::Object>();
  p.int8 = lsr::napi::bool_opt(o, "int8", false);
  p.threads = std::max(1u, static_cast<uint32_t>(lsr::napi::num_opt(o, "threads", 1)));
  p.hnsw.m = static_cast<uint32_t>(lsr::napi::num_opt(o, "hnswM", 0));
  p.hnsw.ef_construction = static_cast<uint32_t>(lsr::napi::num_opt(o, "hnswEfConstruction", 200));
  p.hnsw.seed = static_cast<uint32_t>(lsr::napi::num_opt(o, "hnswSeed", 1));
  // Memory safety: link lists are sized from M.
  p.hnsw.m = std::min(p.hnsw.m, 512u);
}

std::vector<std::shared_ptr<Segment>> segments_of(const Napi::Value& v, uint32_t dim, bool& ok) {
  auto out = lsr::napi::segments_of<SegmentWrap>(v, addon_data(v.Env()).dense_segment_ctor, ok);
  for (const auto& s : out) {
    // The kernels read `dim` query components: a segment of another dimension would read past it.
    if (dim && s->dim() != dim) {
      ok = false;
      return {};
    }
    dim = s->dim();
  }
  return out;
}

bool parse_search_params(const Napi::Value& v, SearchParams& p) {
  if (!v.IsObject()) return false;
  Napi::Object o = v.As<Napi::Object>();
  p.k = static_cast<uint32_t>(lsr::napi::num_opt(o, "k", 10));
  p.approx = lsr::napi::bool_opt(o, "approx", false);
  p.ef = static_cast<uint32_t>(lsr::napi::num_opt(o, "ef", 64));
  return lsr::napi::filter_opt(o, p.filter, p.filter_bits) && p.k > 0;
}

// Exact queries go through in blocks, each row read from memory once per block: one query alone is
// bound by memory bandwidth (150 MB per pass at 100K x 384 f32); 8 queries per row already make
// the pass compute-bound (blocks of 16 and 32 measured no faster), and small blocks share out evenly
// over threads. Approximate queries go one by one.
constexpr uint32_t kQueryBlock = 8;

// buildDenseSegment(docnos: Uint32Array, vectors: Float32Array, dim, params, async)
Napi::Value Build(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  uint32_t* docnos;
  float* vectors;
  size_t nd, nv;
  if (info.Length() < 5 || !lsr::napi::typed<uint32_t, napi_uint32_array>(info[0], docnos, nd) ||
      !lsr::napi::typed<float, napi_float32_array>(info[1], vectors, nv) || !info[2].IsNumber()) {
    throw_coded(env, "NATIVE_BAD_ARGUMENT", "buildDenseSegment(docnos, vectors, dim, params, async)");
    return env.Null();
  }
  const uint32_t dim = info[2].As<Napi::Number>().Uint32Value();
  if (dim == 0 || nv != uint64_t(nd) * dim) {
    throw_coded(env, "NATIVE_BAD_ARGUMENT", "vectors must hold docnos.length * dim floats");
    return env.Null();
  }
  for (size_t i = 1; i < nd; ++i)
    if (docnos[i] <= docnos[i - 1]) {
      throw_coded(env, "NATIVE_BAD_ARGUMENT", "docnos must be strictly increasing");
      return env.Null();
    }
  BuildParams p;
  parse_build_params(info[3], p);
  BuildInput in{docnos, static_cast<uint32_t>(nd), dim, vectors, dim};
  if (info[4].ToBoolean().Value()) {
    Pins pins;
    pins.pin(info[0]);
    pins.pin(info[1]);
    return queue(
        new lsr::napi::SegmentWorker<SegmentWrap>(env, [in, p] { return build_segment(in, p); }, std::move(pins)));
  }
  try {
    return SegmentWrap::Wrap(env, build_segment(in, p));
  } catch (const std::exception& e) {
    throw_coded(env, "NATIVE_BUILD_FAILED", e.what());
    return env.Null();
  }
}

Napi::Value Open(const Napi::CallbackInfo& info) {
  return lsr::napi::open_js<SegmentWrap>(info, "openDenseSegment(path)", lsr::dense::open_segment);
}

// searchDense(segments, query: Float32Array (dim), params)
Napi::Value Search(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  float* q;
  size_t nq;
  SearchParams p;
  bool ok = info.Length() >= 3 && lsr::napi::typed<float, napi_float32_array>(info[1], q, nq);
  auto segs = ok ? segments_of(info[0], static_cast<uint32_t>(nq), ok) : std::vector<std::shared_ptr<Segment>>{};
  if (!ok || !parse_search_params(info[2], p)) {
    throw_coded(env, "NATIVE_BAD_ARGUMENT", "searchDense(segments, query, params): segments must match the query's dimension");
    return env.Null();
  }
  try {
    return lsr::napi::hits_to_js(env, dense_search(segs, q, p));
  } catch (const std::exception& e) {
    throw_coded(env, "NATIVE_SEARCH_FAILED", e.what());
    return env.Null();
  }
}

// searchDenseBatch(segments, queries: Float32Array (nq * dim), dim, params, threads) -> Promise
Napi::Value SearchBatch(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  float* q;
  size_t nv;
  SearchParams p;
  bool ok = info.Length() >= 5 && lsr::napi::typed<float, napi_float32_array>(info[1], q, nv) && info[2].IsNumber() &&
            info[4].IsNumber();
  const uint32_t dim = ok ? info[2].As<Napi::Number>().Uint32Value() : 0;
  auto segs = ok ? segments_of(info[0], dim, ok) : std::vector<std::shared_ptr<Segment>>{};
  if (!ok || dim == 0 || nv % dim != 0 || !parse_search_params(info[3], p)) {
    throw_coded(env, "NATIVE_BAD_ARGUMENT", "searchDenseBatch(segments, queries, dim, params, threads)");
    return env.Null();
  }
  Pins pins;
  pins.pin(info[0]);
  pins.pin(info[1]);
  pins.pin(info[3]);  // holds the filter array
  const uint32_t nq = static_cast<uint32_t>(nv / dim);
  const uint32_t threads = std::max(1u, info[4].As<Napi::Number>().Uint32Value());
  return queue(new lsr::napi::BatchWorker<Hit>(
      env, nq,
      [segs = std::move(segs), q, nq, dim, p, threads](std::vector<std::vector<Hit>>& out) {
        if (p.approx) {
          parallel_chunks(nq, threads, 1, [&](uint32_t, uint64_t b, uint64_t e) {
            for (uint64_t i = b; i < e; ++i) out[i] = dense_search(segs, q + i * dim, p);
          });
        } else {
          parallel_chunks(nq, threads, kQueryBlock, [&](uint32_t, uint64_t b, uint64_t e) {
            std::vector<const float*> qp;
            for (uint64_t i = b; i < e; ++i) qp.push_back(q + i * dim);
            search_exact_block(segs, qp.data(), static_cast<uint32_t>(e - b), p, out.data() + b);
          });
        }
      },
      std::move(pins)));
}

Napi::Value Merge(const Napi::CallbackInfo& info) {
  bool ok;
  auto segs = segments_of(info[0], 0, ok);
  // No segments give no dimension to build the merged one with.
  ok = ok && !segs.empty();
  return lsr::napi::merge_js<SegmentWrap>(info, std::move(segs), ok,
                                          "mergeDenseSegments(segments, params): segments of one dimension",
                                          parse_build_params, merge_segments);
}

Napi::Value SimdLevel(const Napi::CallbackInfo& info) { return Napi::String::New(info.Env(), kernels().name); }

}  // namespace

Napi::Function SegmentWrap::Define(Napi::Env env) {
  return define(env, "DenseSegment", {InstanceMethod("vector", &SegmentWrap::Vector)});
}

// stats() fields of a dense segment, between deleted and formatVersion (SegmentWrapBase::Stats).
void SegmentWrap::engine_stats(Napi::Object& o) const {
  const Header& h = seg_->header();
  o.Set("dim", h.dim);
  o.Set("int8", seg_->int8());
  o.Set("graph", seg_->has_graph());
  o.Set("hnswM", h.hnsw_m);
  o.Set("hnswEfConstruction", h.hnsw_ef_construction);
  o.Set("hnswMaxLevel", h.hnsw_max_level);
  o.Set("bytes", static_cast<double>(seg_->bytes()));
}

// vector(docno) -> {vector: Float32Array (dim, dequantized for i8), deleted} | null
Napi::Value SegmentWrap::Vector(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!info[0].IsNumber()) {
    throw_coded(env, "NATIVE_BAD_ARGUMENT", "vector(docno)");
    return env.Null();
  }
  int64_t l = seg_->local_of(info[0].As<Napi::Number>().Uint32Value());
  if (l < 0) return env.Null();
  std::vector<float> row(seg_->stride());
  seg_->decode(static_cast<uint32_t>(l), row.data());
  auto v = Napi::Float32Array::New(env, seg_->dim());
  std::memcpy(v.Data(), row.data(), 4ull * seg_->dim());
  Napi::Object o = Napi::Object::New(env);
  o.Set("vector", v);
  o.Set("deleted", seg_->is_deleted(static_cast<uint32_t>(l)));
  return o;
}

void init_bindings(Napi::Env env, Napi::Object exports) {
  exports.Set("DenseSegment", SegmentWrap::Define(env));
  exports.Set("buildDenseSegment", Napi::Function::New(env, Build));
  exports.Set("openDenseSegment", Napi::Function::New(env, Open));
  exports.Set("searchDense", Napi::Function::New(env, Search));
  exports.Set("searchDenseBatch", Napi::Function::New(env, SearchBatch));
  exports.Set("mergeDenseSegments", Napi::Function::New(env, Merge));
  exports.Set("denseSimdLevel", Napi::Function::New(env, SimdLevel));
}

}  // namespace lsr::dense
