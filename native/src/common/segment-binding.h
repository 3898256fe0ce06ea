// N-API pieces shared by the sparse and dense bindings: pinning JS values for worker threads, the
// asynchronous workers (build or merge a segment, save one, run a batch of queries), hits as
// typed arrays, open and merge, and the segment class's shared part (Wrap, the class definition;
// stats, delete, deletedBits, docnos, save).
// Promises reject with the same codes in both engines: NATIVE_BUILD_FAILED, NATIVE_SEARCH_FAILED,
// or the IoError's own code.
#pragma once

#include <napi.h>
#if defined(__GLIBC__)
#include <malloc.h>
#endif

#include <cstring>
#include <functional>
#include <initializer_list>
#include <iterator>
#include <memory>
#include <string>
#include <vector>

#include "common/napi-util.h"
#include "common/segment-file.h"

namespace lsr::napi {

// Keeps JS values (typed arrays, segment objects) alive while a worker thread reads them.
struct Pins {
  std::vector<Napi::ObjectReference> refs;
  void pin(const Napi::Value& v) {
    if (v.IsObject()) refs.push_back(Napi::Persistent(v.As<Napi::Object>()));
  }
};

// Queues a worker and returns its promise (the worker deletes itself once it has settled it).
template <typename Worker>
Napi::Promise queue(Worker* w) {
  Napi::Promise pr = w->promise();
  w->Queue();
  return pr;
}

// The segments of a JS array, each an instance of `ctor` (a Wrap class); ok = false otherwise.
template <typename Wrap>
auto segments_of(const Napi::Value& v, const Napi::FunctionReference& ctor, bool& ok)
    -> std::vector<decltype(Wrap::seg_)> {
  std::vector<decltype(Wrap::seg_)> out;
  ok = v.IsArray();
  if (!ok) return out;
  Napi::Array a = v.As<Napi::Array>();
  for (uint32_t i = 0; i < a.Length(); ++i) {
    Napi::Value e = a.Get(i);
    if (!e.IsObject() || !e.As<Napi::Object>().InstanceOf(ctor.Value())) {
      ok = false;
      return {};
    }
    out.push_back(Wrap::Unwrap(e.As<Napi::Object>())->seg_);
  }
  return out;
}

// params.filter: a Uint8Array bitset over global docnos, when present. False if it is another
// kind of typed array; anything else that is not a typed array means no filter.
inline bool filter_opt(const Napi::Object& o, const uint8_t*& filter, uint64_t& filter_bits) {
  Napi::Value f = o.Get("filter");
  if (f.IsTypedArray()) {
    uint8_t* d;
    size_t n;
    if (!typed<uint8_t, napi_uint8_array>(f, d, n)) return false;
    filter = d;
    filter_bits = uint64_t(n) * 8;
  }
  return true;
}

// {docs: Uint32Array, scores: Float32Array}, best first.
template <typename Hit>
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

// {offsets, docs, scores}: the hits of query i at [offsets[i], offsets[i+1]).
template <typename Hit>
Napi::Object batch_hits_to_js(Napi::Env env, const std::vector<std::vector<Hit>>& out) {
  size_t total = 0;
  for (auto& h : out) total += h.size();
  auto offsets = Napi::Uint32Array::New(env, out.size() + 1);
  auto docs = Napi::Uint32Array::New(env, total);
  auto scores = Napi::Float32Array::New(env, total);
  size_t pos = 0;
  offsets[0] = 0;
  for (size_t i = 0; i < out.size(); ++i) {
    for (auto& h : out[i]) {
      docs[pos] = h.docno;
      scores[pos++] = h.score;
    }
    offsets[i + 1] = static_cast<uint32_t>(pos);
  }
  Napi::Object o = Napi::Object::New(env);
  o.Set("offsets", offsets);
  o.Set("docs", docs);
  o.Set("scores", scores);
  return o;
}

// Builds or merges a segment on a worker thread; resolves with it wrapped by `Wrap`.
template <typename Wrap>
class SegmentWorker : public Napi::AsyncWorker {
 public:
  using Segment = typename decltype(Wrap::seg_)::element_type;
  using Job = std::function<std::shared_ptr<Segment>()>;
  SegmentWorker(Napi::Env env, Job job, Pins pins = {})
      : Napi::AsyncWorker(env), deferred_(Napi::Promise::Deferred::New(env)), job_(std::move(job)),
        pins_(std::move(pins)) {}
  Napi::Promise promise() { return deferred_.Promise(); }
  void Execute() override {
    try {
      seg_ = job_();
    } catch (const std::exception& e) {
      SetError(e.what());
    }
#if defined(__GLIBC__)
    // A build's temporaries (gigabytes at 1M documents: sort buffers, per-thread lists) are freed by
    // now, but glibc keeps freed memory in its arenas: hand it back to the OS so the process holds the
    // segment's image, not the build's peak (bench:index measured 9.7 GiB resident for a 6.6 GiB image).
    malloc_trim(0);
#endif
  }
  void OnOK() override { deferred_.Resolve(Wrap::Wrap(Env(), std::move(seg_))); }
  void OnError(const Napi::Error& e) override {
    deferred_.Reject(coded(Env(), "NATIVE_BUILD_FAILED", e.Message()).Value());
  }

 private:
  Napi::Promise::Deferred deferred_;
  Job job_;
  Pins pins_;
  std::shared_ptr<Segment> seg_;
};

// Writes a file on a worker thread (the job holds what it writes); resolves with undefined or
// rejects with the IoError's code and message.
class SaveWorker : public Napi::AsyncWorker {
 public:
  using Job = std::function<IoError()>;
  SaveWorker(Napi::Env env, Job job)
      : Napi::AsyncWorker(env), deferred_(Napi::Promise::Deferred::New(env)), job_(std::move(job)) {}
  Napi::Promise promise() { return deferred_.Promise(); }
  void Execute() override { err_ = job_(); }
  void OnOK() override {
    if (err_.code.empty()) deferred_.Resolve(Env().Undefined());
    else deferred_.Reject(coded(Env(), err_.code, err_.message).Value());
  }

 private:
  Napi::Promise::Deferred deferred_;
  Job job_;
  IoError err_;
};

// Runs `nq` queries on a worker thread, the job filling one hit list per query; resolves with
// batch_hits_to_js.
template <typename Hit>
class BatchWorker : public Napi::AsyncWorker {
 public:
  using Job = std::function<void(std::vector<std::vector<Hit>>& out)>;
  BatchWorker(Napi::Env env, size_t nq, Job job, Pins pins)
      : Napi::AsyncWorker(env), deferred_(Napi::Promise::Deferred::New(env)), nq_(nq), job_(std::move(job)),
        pins_(std::move(pins)) {}
  Napi::Promise promise() { return deferred_.Promise(); }
  void Execute() override {
    out_.resize(nq_);
    try {
      job_(out_);
    } catch (const std::exception& e) {
      SetError(e.what());
    }
  }
  void OnOK() override { deferred_.Resolve(batch_hits_to_js(Env(), out_)); }
  void OnError(const Napi::Error& e) override {
    deferred_.Reject(coded(Env(), "NATIVE_SEARCH_FAILED", e.Message()).Value());
  }

 private:
  Napi::Promise::Deferred deferred_;
  size_t nq_;
  Job job_;
  Pins pins_;
  std::vector<std::vector<Hit>> out_;
};

// open(path) -> a segment of the engine's class (`Wrap`), mapped and verified by `open_segment`;
// throws NATIVE_BAD_ARGUMENT with `usage`, or the IoError's code and message.
template <typename Wrap, typename Segment>
Napi::Value open_js(const Napi::CallbackInfo& info, const char* usage,
                    std::shared_ptr<Segment> (*open_segment)(const std::string&, IoError&)) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsString()) {
    throw_coded(env, "NATIVE_BAD_ARGUMENT", usage);
    return env.Null();
  }
  IoError err;
  auto s = open_segment(info[0].As<Napi::String>().Utf8Value(), err);
  if (!s) {
    throw_coded(env, err.code, err.message);
    return env.Null();
  }
  return Wrap::Wrap(env, std::move(s));
}

// merge(segments, params) -> Promise of one segment of the engine's class (`Wrap`) holding the live
// documents of `segs`, merged on a worker thread. `ok` is the engine's verdict on the segments (its
// segments_of, plus whatever else it requires of a merge); false throws NATIVE_BAD_ARGUMENT with
// `usage`.
template <typename Wrap, typename Segment, typename Params>
Napi::Value merge_js(const Napi::CallbackInfo& info, std::vector<std::shared_ptr<Segment>> segs, bool ok,
                     const char* usage, void (*parse_params)(const Napi::Value&, Params&),
                     std::shared_ptr<Segment> (*merge_segments)(const std::vector<std::shared_ptr<Segment>>&,
                                                                const Params&)) {
  Napi::Env env = info.Env();
  if (!ok) {
    throw_coded(env, "NATIVE_BAD_ARGUMENT", usage);
    return env.Null();
  }
  Params p;
  parse_params(info[1], p);
  return queue(new SegmentWorker<Wrap>(
      env, [segs = std::move(segs), p, merge_segments] { return merge_segments(segs, p); }));
}

// The JS class of an engine's segments (CRTP: Derived is the engine's ObjectWrap class). Wrap()
// makes a JS object holding a segment; the methods both engines expose are here, and define()
// makes the class from them and the engine's own. Derived provides `static
// Napi::FunctionReference& ctor(Napi::Env)` (its constructor in the per-environment AddonData),
// `void engine_stats(Napi::Object&) const` (its fields of stats()) and `kSectionNames` (its
// sections in Section order, for stats().sectionBytes); `save_segment` is the engine's atomic
// write of the image.
template <typename Derived, typename Segment, IoError (*save_segment)(const Segment&, const std::string&)>
class SegmentWrapBase : public Napi::ObjectWrap<Derived> {
 public:
  using PropertyDescriptor = typename Napi::ObjectWrap<Derived>::PropertyDescriptor;

  explicit SegmentWrapBase(const Napi::CallbackInfo& info) : Napi::ObjectWrap<Derived>(info) {}
  static Napi::Object Wrap(Napi::Env env, std::shared_ptr<Segment> s) {
    Napi::Object o = Derived::ctor(env).New({});
    Derived::Unwrap(o)->seg_ = std::move(s);
    return o;
  }
  std::shared_ptr<Segment> seg_;

 protected:
  // The class `name`, its constructor kept in ctor(env). The engine's own methods go between
  // docnos and save, where each engine has always listed them (the prototype's property order).
  static Napi::Function define(Napi::Env env, const char* name, std::initializer_list<PropertyDescriptor> own) {
    std::vector<PropertyDescriptor> methods = {Derived::InstanceMethod("stats", &SegmentWrapBase::Stats),
                                               Derived::InstanceMethod("delete", &SegmentWrapBase::Delete),
                                               Derived::InstanceMethod("deletedBits", &SegmentWrapBase::DeletedBits),
                                               Derived::InstanceMethod("docnos", &SegmentWrapBase::Docnos)};
    methods.insert(methods.end(), own);
    methods.push_back(Derived::InstanceMethod("save", &SegmentWrapBase::Save));
    Napi::Function f = Derived::DefineClass(env, name, methods);
    Derived::ctor(env) = Napi::Persistent(f);
    return f;
  }

  // stats() -> {docs, deleted, <the engine's fields>, formatVersion, sectionBytes}
  Napi::Value Stats(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    const auto& h = seg_->header();
    Napi::Object o = Napi::Object::New(env);
    o.Set("docs", seg_->n_docs());
    o.Set("deleted", seg_->deleted_count());
    static_cast<const Derived*>(this)->engine_stats(o);
    o.Set("formatVersion", h.version);
    o.Set("mapped", seg_->mapped());
    Napi::Object bytes = Napi::Object::New(env);
    for (uint32_t s = 0; s < std::size(Derived::kSectionNames); ++s)
      bytes.Set(Derived::kSectionNames[s], static_cast<double>(h.sections[s].length));
    o.Set("sectionBytes", bytes);
    return o;
  }

  // delete(docnos: Uint32Array) -> number of documents newly deleted in this segment
  Napi::Value Delete(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    uint32_t* d;
    size_t n;
    if (!typed<uint32_t, napi_uint32_array>(info[0], d, n)) {
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
  Napi::Value DeletedBits(const Napi::CallbackInfo& info) {
    const uint32_t n = seg_->n_docs();
    auto out = Napi::Uint8Array::New(info.Env(), (n + 7) / 8);
    for (uint32_t i = 0; i < n; ++i)
      if (seg_->is_deleted(i)) out[i >> 3] |= static_cast<uint8_t>(1u << (i & 7));
    return out;
  }

  // docnos() -> Uint32Array of the segment's global document numbers, ascending
  Napi::Value Docnos(const Napi::CallbackInfo& info) {
    const uint32_t n = seg_->n_docs();
    auto out = Napi::Uint32Array::New(info.Env(), n);
    if (n) std::memcpy(out.Data(), seg_->docnos(), 4ull * n);
    return out;
  }

  // save(path) -> Promise, settled once the file is written (temporary file, fsync, rename)
  Napi::Value Save(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (!info[0].IsString()) {
      throw_coded(env, "NATIVE_BAD_ARGUMENT", "save(path)");
      return env.Null();
    }
    return queue(new SaveWorker(env, [seg = seg_, path = info[0].As<Napi::String>().Utf8Value()] {
      return save_segment(*seg, path);
    }));
  }
};

}  // namespace lsr::napi
