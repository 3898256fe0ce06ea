// Per-environment state of the addon. Node may load the addon in several environments at once (the
// main thread and worker threads); anything tied to one V8 isolate, such as a class constructor,
// must live here rather than in a static, or one thread would call into another's isolate.
#pragma once

#include <napi.h>

namespace lsr {

struct AddonData {
  Napi::FunctionReference segment_ctor;
  Napi::FunctionReference dense_segment_ctor;
};

inline AddonData& addon_data(Napi::Env env) { return *env.GetInstanceData<AddonData>(); }

}  // namespace lsr
