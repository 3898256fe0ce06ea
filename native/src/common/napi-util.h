// Small helpers shared by the bindings: coded errors and typed-array access. Validation with
// friendly messages happens in TypeScript (index/); these checks only keep memory safe.
#pragma once

#include <napi.h>

#include <string>

namespace lsr::napi {

inline void throw_coded(Napi::Env env, const std::string& code, const std::string& message) {
  Napi::Error e = Napi::Error::New(env, message);
  e.Set("code", Napi::String::New(env, code));
  e.ThrowAsJavaScriptException();
}

inline Napi::Error coded(Napi::Env env, const std::string& code, const std::string& message) {
  Napi::Error e = Napi::Error::New(env, message);
  e.Set("code", Napi::String::New(env, code));
  return e;
}

template <typename T, napi_typedarray_type Type>
bool typed(const Napi::Value& v, T*& data, size_t& len) {
  if (!v.IsTypedArray()) return false;
  auto ta = v.As<Napi::TypedArray>();
  if (ta.TypedArrayType() != Type) return false;
  auto arr = v.As<Napi::TypedArrayOf<T>>();
  data = arr.Data();
  len = arr.ElementLength();
  return true;
}

inline double num_opt(const Napi::Object& o, const char* key, double dflt) {
  Napi::Value v = o.Get(key);
  return v.IsNumber() ? v.As<Napi::Number>().DoubleValue() : dflt;
}

inline bool bool_opt(const Napi::Object& o, const char* key, bool dflt) {
  Napi::Value v = o.Get(key);
  return v.IsBoolean() ? v.As<Napi::Boolean>().Value() : dflt;
}

}  // namespace lsr::napi
