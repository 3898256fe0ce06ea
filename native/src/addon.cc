// Entry point of the native addon: registers each component's bindings.
#include <napi.h>

#include "common/addon-data.h"
#include "common/cpu.h"

namespace lsr::sparse {
void init_bindings(Napi::Env env, Napi::Object exports);
}
namespace lsr::head {
void init_bindings(Napi::Env env, Napi::Object exports);
}
namespace lsr::dense {
void init_bindings(Napi::Env env, Napi::Object exports);
}

namespace {

Napi::Value CpuLevel(const Napi::CallbackInfo& info) {
  return Napi::String::New(info.Env(), lsr::cpu::level_name(lsr::cpu::level()));
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  env.SetInstanceData(new lsr::AddonData());  // freed by N-API when the environment goes away
  exports.Set("cpuLevel", Napi::Function::New(env, CpuLevel));
  lsr::sparse::init_bindings(env, exports);
  lsr::head::init_bindings(env, exports);
  lsr::dense::init_bindings(env, exports);
  return exports;
}

}  // namespace

NODE_API_MODULE(lsr_native, Init)
