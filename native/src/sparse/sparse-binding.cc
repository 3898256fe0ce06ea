// N-API surface of the sparse engine: the SparseSegment class and the search/merge functions.
// Typed arrays are read in place (no copies); arrays handed to an asynchronous call are pinned by
// a reference and must not be modified by the caller until its promise settles.
#include <napi.h>

#include <memory>
#include <vector>

#include "common/addon-data.h"
#include "common/napi-util.h"
#include "common/parallel.h"
#include "common/segment-binding.h"
#include "sparse/forward.h"
#include "sparse/search.h"
#include "sparse/segment-io.h"
#include "sparse/segment.h"

namespace lsr::sparse {

using lsr::napi::Pins;
using lsr::napi::queue;
using lsr::napi::throw_coded;

class SegmentWrap : public lsr::napi::SegmentWrapBase<SegmentWrap, Segment, save_segment> {
 public:
  using SegmentWrapBase::SegmentWrapBase;
  static Napi::Function Define(Napi::Env env);
  static Napi::FunctionReference& ctor(Napi::Env env) { return addon_data(env).segment_ctor; }

 private:
  friend SegmentWrapBase;
  static constexpr const char* kSectionNames[kSectionCount] = {
      "docnos", "fwdOffsets", "fwdTerms", "fwdWeights", "invOffsets", "runOffsets", "runWindows", "runEnds",
      "runHeavy", "invDocs", "invWeights", "termMax", "termErr", "blkTermOffsets", "blkDocOffsets", "blkDocs",
      "sumOffsets", "sumTerms", "sumValues", "sumScale"};
  void engine_stats(Napi::Object& o) const;
  Napi::Value Document(const Napi::CallbackInfo& info);
};

namespace {

void parse_build_params(const Napi::Value& v, BuildParams& p) {
  if (!v.IsObject()) return;
  Napi::Object o = v.As<Napi::Object>();
  p.quantize_u8 = lsr::napi::bool_opt(o, "quantizeU8", false);
  p.weights_f16 = lsr::napi::bool_opt(o, "weightsF16", false);
  p.threads = static_cast<uint32_t>(lsr::napi::num_opt(o, "threads", 1));
  p.approx.postings = static_cast<uint32_t>(lsr::napi::num_opt(o, "approxPostings", 0));
  p.approx.block_ratio = static_cast<float>(lsr::napi::num_opt(o, "approxBlockRatio", 0.1));
  p.approx.summary_energy = static_cast<float>(lsr::napi::num_opt(o, "approxSummaryEnergy", 0.4));
  p.approx.blocks = lsr::napi::bool_opt(o, "approxBlocks", false);
}

std::vector<std::shared_ptr<Segment>> segments_of(const Napi::Value& v, bool& ok) {
  return lsr::napi::segments_of<SegmentWrap>(v, addon_data(v.Env()).segment_ctor, ok);
}

bool parse_search_params(const Napi::Value& v, SearchParams& p) {
  if (!v.IsObject()) return false;
  Napi::Object o = v.As<Napi::Object>();
  p.k = static_cast<uint32_t>(lsr::napi::num_opt(o, "k", 10));
  p.approx = lsr::napi::bool_opt(o, "approx", false);
  p.query_cut = static_cast<uint32_t>(lsr::napi::num_opt(o, "queryCut", 10));
  p.heap_factor = static_cast<float>(lsr::napi::num_opt(o, "heapFactor", 0.9));
  p.rerank = static_cast<uint32_t>(lsr::napi::num_opt(o, "rerank", 100));
  Napi::Value strategy = o.Get("strategy");
  p.blocks = strategy.IsString() && strategy.As<Napi::String>().Utf8Value() == "blocks";
  return lsr::napi::filter_opt(o, p.filter, p.filter_bits) && p.k > 0;
}

// build(docnos: Uint32Array, offsets: Uint32Array, terms: Uint32Array, weights: Float32Array,
//       vocab: number, params: object, async: boolean)
Napi::Value Build(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  uint32_t *docnos, *offs, *terms;
  float* weights;
  size_t nd, no, nt, nw;
  if (info.Length() < 7 || !lsr::napi::typed<uint32_t, napi_uint32_array>(info[0], docnos, nd) ||
      !lsr::napi::typed<uint32_t, napi_uint32_array>(info[1], offs, no) ||
      !lsr::napi::typed<uint32_t, napi_uint32_array>(info[2], terms, nt) ||
      !lsr::napi::typed<float, napi_float32_array>(info[3], weights, nw) || !info[4].IsNumber()) {
    throw_coded(env, "NATIVE_BAD_ARGUMENT", "build(docnos, offsets, terms, weights, vocab, params, async)");
    return env.Null();
  }
  // Memory-safety checks only; the TypeScript layer gives the friendly messages.
  if (no != nd + 1 || nt != nw || offs[0] != 0 || offs[nd] != nt) {
    throw_coded(env, "NATIVE_BAD_ARGUMENT", "offsets must have docs+1 entries from 0 to terms.length");
    return env.Null();
  }
  const uint32_t vocab = info[4].As<Napi::Number>().Uint32Value();
  std::vector<uint64_t> offsets(no);
  for (size_t i = 0; i < no; ++i) {
    if (i && offs[i] < offs[i - 1]) {
      throw_coded(env, "NATIVE_BAD_ARGUMENT", "offsets must be non-decreasing");
      return env.Null();
    }
    offsets[i] = offs[i];
  }
  for (size_t i = 0; i < nt; ++i)
    if (terms[i] >= vocab) {
      throw_coded(env, "NATIVE_BAD_ARGUMENT", "term id out of vocabulary range");
      return env.Null();
    }
  for (size_t i = 1; i < nd; ++i)
    if (docnos[i] <= docnos[i - 1]) {
      throw_coded(env, "NATIVE_BAD_ARGUMENT", "docnos must be strictly increasing");
      return env.Null();
    }
  BuildParams p;
  parse_build_params(info[5], p);
  BuildInput in{docnos, static_cast<uint32_t>(nd), nullptr, terms, weights, vocab};
  if (info[6].ToBoolean().Value()) {
    Pins pins;
    for (int i = 0; i < 4; ++i) pins.pin(info[i]);
    return queue(new lsr::napi::SegmentWorker<SegmentWrap>(
        env,
        [in, offsets = std::move(offsets), p] {
          BuildInput with_offsets = in;
          with_offsets.offsets = offsets.data();
          return build_segment(with_offsets, p);
        },
        std::move(pins)));
  }
  in.offsets = offsets.data();
  try {
    return SegmentWrap::Wrap(env, build_segment(in, p));
  } catch (const std::exception& e) {
    throw_coded(env, "NATIVE_BUILD_FAILED", e.what());
    return env.Null();
  }
}

Napi::Value Open(const Napi::CallbackInfo& info) {
  return lsr::napi::open_js<SegmentWrap>(info, "open(path)", open_segment);
}

Query query_of(const uint32_t* t, const float* w, size_t n) { return normalize_query(t, w, n); }

// search(segments, terms: Uint32Array, weights: Float32Array, params)
Napi::Value Search(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  bool ok;
  auto segs = segments_of(info[0], ok);
  uint32_t* t;
  float* w;
  size_t nt, nw;
  SearchParams p;
  if (!ok || !lsr::napi::typed<uint32_t, napi_uint32_array>(info[1], t, nt) ||
      !lsr::napi::typed<float, napi_float32_array>(info[2], w, nw) || nt != nw || !parse_search_params(info[3], p)) {
    throw_coded(env, "NATIVE_BAD_ARGUMENT", "search(segments, terms, weights, params)");
    return env.Null();
  }
  try {
    return lsr::napi::hits_to_js(env, sparse_search(segs, query_of(t, w, nt), p));
  } catch (const std::exception& e) {
    throw_coded(env, "NATIVE_SEARCH_FAILED", e.what());
    return env.Null();
  }
}

// searchBatch(segments, offsets: Uint32Array, terms, weights, params, threads) -> Promise
Napi::Value SearchBatch(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  bool ok;
  auto segs = segments_of(info[0], ok);
  uint32_t *o, *t;
  float* w;
  size_t no, nt, nw;
  SearchParams p;
  if (!ok || !lsr::napi::typed<uint32_t, napi_uint32_array>(info[1], o, no) || no == 0 ||
      !lsr::napi::typed<uint32_t, napi_uint32_array>(info[2], t, nt) ||
      !lsr::napi::typed<float, napi_float32_array>(info[3], w, nw) || nt != nw || o[0] != 0 || o[no - 1] != nt ||
      !parse_search_params(info[4], p) || !info[5].IsNumber()) {
    throw_coded(env, "NATIVE_BAD_ARGUMENT", "searchBatch(segments, offsets, terms, weights, params, threads)");
    return env.Null();
  }
  std::vector<Query> qs;
  qs.reserve(no - 1);
  for (size_t i = 0; i + 1 < no; ++i) {
    if (o[i + 1] < o[i]) {
      throw_coded(env, "NATIVE_BAD_ARGUMENT", "query offsets must be non-decreasing");
      return env.Null();
    }
    qs.push_back(query_of(t + o[i], w + o[i], o[i + 1] - o[i]));
  }
  Pins pins;
  pins.pin(info[0]);
  pins.pin(info[4]);  // holds the filter array
  const uint32_t threads = std::max(1u, info[5].As<Napi::Number>().Uint32Value());
  const size_t nq = qs.size();
  return queue(new lsr::napi::BatchWorker<Hit>(
      env, nq,
      [segs = std::move(segs), qs = std::move(qs), p, threads](std::vector<std::vector<Hit>>& out) {
        parallel_chunks(qs.size(), threads, 1, [&](uint32_t, uint64_t b, uint64_t e) {
          for (uint64_t i = b; i < e; ++i) out[i] = sparse_search(segs, qs[i], p);
        });
      },
      std::move(pins)));
}

Napi::Value Merge(const Napi::CallbackInfo& info) {
  bool ok;
  auto segs = segments_of(info[0], ok);
  return lsr::napi::merge_js<SegmentWrap>(info, std::move(segs), ok, "merge(segments, params)", parse_build_params,
                                          merge_segments);
}

}  // namespace

Napi::Function SegmentWrap::Define(Napi::Env env) {
  return define(env, "SparseSegment", {InstanceMethod("document", &SegmentWrap::Document)});
}

// stats() fields of a sparse segment, between deleted and formatVersion (SegmentWrapBase::Stats).
void SegmentWrap::engine_stats(Napi::Object& o) const {
  const Header& h = seg_->header();
  o.Set("nnz", static_cast<double>(h.nnz));
  o.Set("vocab", h.vocab);
  o.Set("bytes", static_cast<double>(seg_->bytes()));
  o.Set("quantized", seg_->quantized());
  o.Set("weightsF16", seg_->weights16());
  o.Set("terms16", seg_->terms16());
  o.Set("runs", static_cast<double>(h.n_runs));
  o.Set("approx", seg_->has_approx());
  o.Set("approxBlocks", seg_->has_blocks());
  o.Set("blocks", static_cast<double>(h.n_blocks));
  o.Set("approxPostings", h.approx_postings);
  o.Set("approxBlockRatio", h.approx_block_ratio);
  o.Set("approxSummaryEnergy", h.approx_summary_energy);
}

// document(docno) -> {terms, weights} | null; deleted documents are still returned (callers check).
Napi::Value SegmentWrap::Document(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!info[0].IsNumber()) {
    throw_coded(env, "NATIVE_BAD_ARGUMENT", "document(docno)");
    return env.Null();
  }
  int64_t l = seg_->local_of(info[0].As<Napi::Number>().Uint32Value());
  if (l < 0) return env.Null();
  const ForwardView fwd(*seg_);
  const uint64_t n = fwd.length(static_cast<uint32_t>(l));
  auto terms = Napi::Uint32Array::New(env, n);
  auto weights = Napi::Float32Array::New(env, n);
  fwd.read(static_cast<uint32_t>(l), terms.Data(), weights.Data());
  Napi::Object o = Napi::Object::New(env);
  o.Set("terms", terms);
  o.Set("weights", weights);
  o.Set("deleted", seg_->is_deleted(static_cast<uint32_t>(l)));
  return o;
}

void init_bindings(Napi::Env env, Napi::Object exports) {
  exports.Set("SparseSegment", SegmentWrap::Define(env));
  exports.Set("buildSparseSegment", Napi::Function::New(env, Build));
  exports.Set("openSparseSegment", Napi::Function::New(env, Open));
  exports.Set("searchSparse", Napi::Function::New(env, Search));
  exports.Set("searchSparseBatch", Napi::Function::New(env, SearchBatch));
  exports.Set("mergeSparseSegments", Napi::Function::New(env, Merge));
}

}  // namespace lsr::sparse
