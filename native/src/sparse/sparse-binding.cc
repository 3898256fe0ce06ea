// N-API surface of the sparse engine: the SparseSegment class and the search/merge functions.
// Typed arrays are read in place (no copies); arrays handed to an asynchronous call are pinned by
// a reference and must not be modified by the caller until its promise settles.
#include <napi.h>

#include <memory>
#include <vector>

#include "common/addon-data.h"
#include "common/napi-util.h"
#include "common/parallel.h"
#include "sparse/search.h"
#include "sparse/segment-io.h"
#include "sparse/segment.h"

namespace lsr::sparse {

using lsr::napi::coded;
using lsr::napi::throw_coded;

class SegmentWrap : public Napi::ObjectWrap<SegmentWrap> {
 public:
  static Napi::Function Define(Napi::Env env);
  explicit SegmentWrap(const Napi::CallbackInfo& info) : Napi::ObjectWrap<SegmentWrap>(info) {}
  static Napi::Object Wrap(Napi::Env env, std::shared_ptr<Segment> s) {
    Napi::Object o = addon_data(env).segment_ctor.New({});
    Unwrap(o)->seg_ = std::move(s);
    return o;
  }
  std::shared_ptr<Segment> seg_;

 private:
  Napi::Value Stats(const Napi::CallbackInfo& info);
  Napi::Value Delete(const Napi::CallbackInfo& info);
  Napi::Value DeletedBits(const Napi::CallbackInfo& info);
  Napi::Value Docnos(const Napi::CallbackInfo& info);
  Napi::Value Document(const Napi::CallbackInfo& info);
  Napi::Value Save(const Napi::CallbackInfo& info);
};

namespace {

bool parse_build_params(const Napi::Value& v, BuildParams& p) {
  if (!v.IsObject()) return true;
  Napi::Object o = v.As<Napi::Object>();
  p.quantize_u8 = lsr::napi::bool_opt(o, "quantizeU8", false);
  p.threads = static_cast<uint32_t>(lsr::napi::num_opt(o, "threads", 1));
  p.approx.postings = static_cast<uint32_t>(lsr::napi::num_opt(o, "approxPostings", 0));
  p.approx.block_ratio = static_cast<float>(lsr::napi::num_opt(o, "approxBlockRatio", 0.1));
  p.approx.summary_energy = static_cast<float>(lsr::napi::num_opt(o, "approxSummaryEnergy", 0.4));
  p.approx.blocks = lsr::napi::bool_opt(o, "approxBlocks", false);
  return true;
}

std::vector<std::shared_ptr<Segment>> segments_of(const Napi::Value& v, bool& ok) {
  std::vector<std::shared_ptr<Segment>> out;
  ok = v.IsArray();
  if (!ok) return out;
  Napi::Array a = v.As<Napi::Array>();
  for (uint32_t i = 0; i < a.Length(); ++i) {
    Napi::Value e = a.Get(i);
    if (!e.IsObject() || !e.As<Napi::Object>().InstanceOf(addon_data(v.Env()).segment_ctor.Value())) {
      ok = false;
      return {};
    }
    out.push_back(SegmentWrap::Unwrap(e.As<Napi::Object>())->seg_);
  }
  return out;
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
  Napi::Value f = o.Get("filter");
  if (f.IsTypedArray()) {
    uint8_t* d;
    size_t n;
    if (!lsr::napi::typed<uint8_t, napi_uint8_array>(f, d, n)) return false;
    p.filter = d;
    p.filter_bits = uint64_t(n) * 8;
  }
  return p.k > 0;
}

Napi::Object hits_to_js(Napi::Env env, const std::vector<Hit>& hits) {
  auto docs = Napi::Uint32Array::New(env, hits.size());
  auto scores = Napi::Float32Array::New(env, hits.size());
  for (size_t i = 0; i < hits.size(); ++i) {
    docs[i] = hits[i].docno;
    scores[i] = hits[i].score;
  }
  Napi::Object o = Napi::Object::New(env);
  o.Set("docs", docs);
  o.Set("scores", scores);
  return o;
}

// Keeps JS values (typed arrays, segment objects) alive while a worker thread reads them.
struct Pins {
  std::vector<Napi::ObjectReference> refs;
  void pin(const Napi::Value& v) {
    if (v.IsObject()) refs.push_back(Napi::Persistent(v.As<Napi::Object>()));
  }
};

class BuildWorker : public Napi::AsyncWorker {
 public:
  BuildWorker(Napi::Env env, BuildInput in, std::vector<uint64_t> offsets, BuildParams p, Pins pins)
      : Napi::AsyncWorker(env), deferred_(Napi::Promise::Deferred::New(env)), in_(in),
        offsets_(std::move(offsets)), p_(p), pins_(std::move(pins)) {
    in_.offsets = offsets_.data();
  }
  Napi::Promise promise() { return deferred_.Promise(); }
  void Execute() override {
    try {
      seg_ = build_segment(in_, p_);
    } catch (const std::exception& e) {
      SetError(e.what());
    }
  }
  void OnOK() override { deferred_.Resolve(SegmentWrap::Wrap(Env(), std::move(seg_))); }
  void OnError(const Napi::Error& e) override {
    deferred_.Reject(coded(Env(), "NATIVE_BUILD_FAILED", e.Message()).Value());
  }

 private:
  Napi::Promise::Deferred deferred_;
  BuildInput in_;
  std::vector<uint64_t> offsets_;
  BuildParams p_;
  Pins pins_;
  std::shared_ptr<Segment> seg_;
};

class MergeWorker : public Napi::AsyncWorker {
 public:
  MergeWorker(Napi::Env env, std::vector<std::shared_ptr<Segment>> segs, BuildParams p)
      : Napi::AsyncWorker(env), deferred_(Napi::Promise::Deferred::New(env)), segs_(std::move(segs)), p_(p) {}
  Napi::Promise promise() { return deferred_.Promise(); }
  void Execute() override {
    try {
      out_ = merge_segments(segs_, p_);
    } catch (const std::exception& e) {
      SetError(e.what());
    }
  }
  void OnOK() override { deferred_.Resolve(SegmentWrap::Wrap(Env(), std::move(out_))); }
  void OnError(const Napi::Error& e) override {
    deferred_.Reject(coded(Env(), "NATIVE_BUILD_FAILED", e.Message()).Value());
  }

 private:
  Napi::Promise::Deferred deferred_;
  std::vector<std::shared_ptr<Segment>> segs_;
  BuildParams p_;
  std::shared_ptr<Segment> out_;
};

class SaveWorker : public Napi::AsyncWorker {
 public:
  SaveWorker(Napi::Env env, std::shared_ptr<Segment> s, std::string path)
      : Napi::AsyncWorker(env), deferred_(Napi::Promise::Deferred::New(env)), s_(std::move(s)), path_(std::move(path)) {}
  Napi::Promise promise() { return deferred_.Promise(); }
  void Execute() override { err_ = save_segment(*s_, path_); }
  void OnOK() override {
    if (err_.code.empty()) deferred_.Resolve(Env().Undefined());
    else deferred_.Reject(coded(Env(), err_.code, err_.message).Value());
  }

 private:
  Napi::Promise::Deferred deferred_;
  std::shared_ptr<Segment> s_;
  std::string path_;
  IoError err_;
};

class BatchWorker : public Napi::AsyncWorker {
 public:
  BatchWorker(Napi::Env env, std::vector<std::shared_ptr<Segment>> segs, std::vector<Query> qs,
              SearchParams p, uint32_t threads, Pins pins)
      : Napi::AsyncWorker(env), deferred_(Napi::Promise::Deferred::New(env)), segs_(std::move(segs)),
        qs_(std::move(qs)), p_(p), threads_(threads), pins_(std::move(pins)) {}
  Napi::Promise promise() { return deferred_.Promise(); }
  void Execute() override {
    out_.resize(qs_.size());
    try {
      parallel_chunks(qs_.size(), threads_, 1, [&](uint32_t, uint64_t b, uint64_t e) {
        for (uint64_t i = b; i < e; ++i) out_[i] = search(segs_, qs_[i], p_);
      });
    } catch (const std::exception& e) {
      SetError(e.what());
    }
  }
  void OnOK() override {
    Napi::Env env = Env();
    size_t total = 0;
    for (auto& h : out_) total += h.size();
    auto offsets = Napi::Uint32Array::New(env, out_.size() + 1);
    auto docs = Napi::Uint32Array::New(env, total);
    auto scores = Napi::Float32Array::New(env, total);
    size_t pos = 0;
    offsets[0] = 0;
    for (size_t i = 0; i < out_.size(); ++i) {
      for (auto& h : out_[i]) {
        docs[pos] = h.docno;
        scores[pos++] = h.score;
      }
      offsets[i + 1] = static_cast<uint32_t>(pos);
    }
    Napi::Object o = Napi::Object::New(env);
    o.Set("offsets", offsets);
    o.Set("docs", docs);
    o.Set("scores", scores);
    deferred_.Resolve(o);
  }
  void OnError(const Napi::Error& e) override {
    deferred_.Reject(coded(Env(), "NATIVE_SEARCH_FAILED", e.Message()).Value());
  }

 private:
  Napi::Promise::Deferred deferred_;
  std::vector<std::shared_ptr<Segment>> segs_;
  std::vector<Query> qs_;
  SearchParams p_;
  uint32_t threads_;
  Pins pins_;
  std::vector<std::vector<Hit>> out_;
};

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
    auto* w = new BuildWorker(env, in, std::move(offsets), p, std::move(pins));
    Napi::Promise pr = w->promise();
    w->Queue();
    return pr;
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
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsString()) {
    throw_coded(env, "NATIVE_BAD_ARGUMENT", "open(path)");
    return env.Null();
  }
  IoError err;
  auto s = open_segment(info[0].As<Napi::String>().Utf8Value(), err);
  if (!s) {
    throw_coded(env, err.code, err.message);
    return env.Null();
  }
  return SegmentWrap::Wrap(env, std::move(s));
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
    return hits_to_js(env, search(segs, query_of(t, w, nt), p));
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
  auto* wk = new BatchWorker(env, std::move(segs), std::move(qs), p,
                             std::max(1u, info[5].As<Napi::Number>().Uint32Value()), std::move(pins));
  Napi::Promise pr = wk->promise();
  wk->Queue();
  return pr;
}

Napi::Value Merge(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  bool ok;
  auto segs = segments_of(info[0], ok);
  if (!ok) {
    throw_coded(env, "NATIVE_BAD_ARGUMENT", "merge(segments, params)");
    return env.Null();
  }
  BuildParams p;
  parse_build_params(info[1], p);
  auto* w = new MergeWorker(env, std::move(segs), p);
  Napi::Promise pr = w->promise();
  w->Queue();
  return pr;
}

}  // namespace

Napi::Function SegmentWrap::Define(Napi::Env env) {
  Napi::Function f = DefineClass(env, "SparseSegment",
                                 {InstanceMethod("stats", &SegmentWrap::Stats),
                                  InstanceMethod("delete", &SegmentWrap::Delete),
                                  InstanceMethod("deletedBits", &SegmentWrap::DeletedBits),
                                  InstanceMethod("docnos", &SegmentWrap::Docnos),
                                  InstanceMethod("document", &SegmentWrap::Document),
                                  InstanceMethod("save", &SegmentWrap::Save)});
  addon_data(env).segment_ctor = Napi::Persistent(f);
  return f;
}

Napi::Value SegmentWrap::Stats(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const Header& h = seg_->header();
  Napi::Object o = Napi::Object::New(env);
  o.Set("docs", seg_->n_docs());
  o.Set("deleted", seg_->deleted_count());
  o.Set("nnz", static_cast<double>(h.nnz));
  o.Set("vocab", h.vocab);
  o.Set("bytes", static_cast<double>(seg_->bytes()));
  o.Set("quantized", seg_->quantized());
  o.Set("approx", seg_->has_approx());
  o.Set("approxBlocks", seg_->has_blocks());
  o.Set("blocks", static_cast<double>(h.n_blocks));
  o.Set("approxPostings", h.approx_postings);
  o.Set("approxBlockRatio", h.approx_block_ratio);
  o.Set("approxSummaryEnergy", h.approx_summary_energy);
  o.Set("formatVersion", h.version);
  Napi::Object bytes = Napi::Object::New(env);
  const char* names[kSectionCount] = {"docnos", "fwdOffsets", "fwdTerms", "fwdWeights", "invOffsets",
                                      "invDocs", "invWeights", "termMax", "blkTermOffsets", "blkDocOffsets",
                                      "blkDocs", "sumOffsets", "sumTerms", "sumValues", "sumScale",
                                      "prunedOffsets", "prunedDocs", "prunedWeights"};
  for (uint32_t s = 0; s < kSectionCount; ++s) bytes.Set(names[s], static_cast<double>(h.sections[s].length));
  o.Set("sectionBytes", bytes);
  return o;
}

// delete(docnos: Uint32Array) -> number of documents newly deleted in this segment
Napi::Value SegmentWrap::Delete(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  uint32_t* d;
  size_t n;
  if (!lsr::napi::typed<uint32_t, napi_uint32_array>(info[0], d, n)) {
    throw_coded(env, "NATIVE_BAD_ARGUMENT", "delete(docnos: Uint32Array)");
    return env.Null();
  }
  uint32_t count = 0;
  for (size_t i = 0; i < n; ++i) {
    int64_t l = seg_->local_of(d[i]);
    if (l >= 0 && seg_->mark_deleted(static_cast<uint32_t>(l))) ++count;
  }
  return Napi::Number::New(env, count);
}

// deletedBits() -> Uint8Array bitset over local ids (for persisting tombstones)
Napi::Value SegmentWrap::DeletedBits(const Napi::CallbackInfo& info) {
  const uint32_t n = seg_->n_docs();
  auto out = Napi::Uint8Array::New(info.Env(), (n + 7) / 8);
  for (uint32_t i = 0; i < n; ++i)
    if (seg_->is_deleted(i)) out[i >> 3] |= static_cast<uint8_t>(1u << (i & 7));
  return out;
}

Napi::Value SegmentWrap::Docnos(const Napi::CallbackInfo& info) {
  const uint32_t n = seg_->n_docs();
  auto out = Napi::Uint32Array::New(info.Env(), n);
  std::memcpy(out.Data(), seg_->docnos(), 4ull * n);
  return out;
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
  const uint64_t* fo = seg_->sec<uint64_t>(kFwdOffsets);
  uint64_t a = fo[l], n = fo[l + 1] - a;
  auto terms = Napi::Uint32Array::New(env, n);
  auto weights = Napi::Float32Array::New(env, n);
  std::memcpy(terms.Data(), seg_->sec<uint32_t>(kFwdTerms) + a, n * 4);
  std::memcpy(weights.Data(), seg_->sec<float>(kFwdWeights) + a, n * 4);
  Napi::Object o = Napi::Object::New(env);
  o.Set("terms", terms);
  o.Set("weights", weights);
  o.Set("deleted", seg_->is_deleted(static_cast<uint32_t>(l)));
  return o;
}

Napi::Value SegmentWrap::Save(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!info[0].IsString()) {
    throw_coded(env, "NATIVE_BAD_ARGUMENT", "save(path)");
    return env.Null();
  }
  auto* w = new SaveWorker(env, seg_, info[0].As<Napi::String>().Utf8Value());
  Napi::Promise pr = w->promise();
  w->Queue();
  return pr;
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
