// Module entry: one AddonData per napi_env (main thread or worker), the
// Snapshot class, and a few pure functions exposed for conformance tests.
#include <napi.h>

#include "addon_data.h"
#include "cohort_store_wrap.h"
#include "js_string.h"
#include "murmur3.h"
#include "semantic_version.h"
#include "simple_regex.h"
#include "snapshot_parse_worker.h"
#include "snapshot_wrap.h"

namespace experiment {

namespace {

std::string toWtf8(const Napi::String& s) {
  std::string out;
  utf16ToWtf8(s.Utf16Value(), out);
  return out;
}

bool expectStrings(const Napi::CallbackInfo& info, size_t n) {
  for (size_t i = 0; i < n; i++) {
    if (info.Length() <= i || !info[i].IsString()) {
      Napi::TypeError::New(info.Env(), "expected string arguments").ThrowAsJavaScriptException();
      return false;
    }
  }
  return true;
}

// murmur3(text, seed?) over the UTF-8 the reference engine produces.
Napi::Value Murmur3(const Napi::CallbackInfo& info) {
  if (!expectStrings(info, 1)) return info.Env().Undefined();
  std::string bytes = toWtf8(info[0].As<Napi::String>());
  uint32_t seed = info.Length() > 1 && info[1].IsNumber() ? info[1].As<Napi::Number>().Uint32Value() : 0;
  return Napi::Number::New(info.Env(), murmur3_x86_32(bytes.data(), bytes.size(), seed));
}

// compareVersions(a, b): -1/0/1, or null when either does not parse.
Napi::Value CompareVersions(const Napi::CallbackInfo& info) {
  if (!expectStrings(info, 2)) return info.Env().Undefined();
  auto a = SemanticVersion::parse(toWtf8(info[0].As<Napi::String>()));
  auto b = SemanticVersion::parse(toWtf8(info[1].As<Napi::String>()));
  if (!a || !b) return info.Env().Null();
  return Napi::Number::New(info.Env(), a->compare(*b));
}

Napi::Value ParseVersionOk(const Napi::CallbackInfo& info) {
  if (!expectStrings(info, 1)) return info.Env().Undefined();
  return Napi::Boolean::New(info.Env(), SemanticVersion::parse(toWtf8(info[0].As<Napi::String>())).has_value());
}

Napi::Value NumberToString(const Napi::CallbackInfo& info) {
  std::string out;
  appendJsNumber(info[0].ToNumber().DoubleValue(), out);
  return Napi::String::New(info.Env(), out);
}

Napi::Value StringToNumber(const Napi::CallbackInfo& info) {
  if (!expectStrings(info, 1)) return info.Env().Undefined();
  return Napi::Number::New(info.Env(), jsStringToNumber(toWtf8(info[0].As<Napi::String>())));
}

// parseSnapshot(bytes: Uint8Array) -> Promise<Snapshot>: the payload is parsed
// and validated on the libuv pool; the caller then finalizes it as usual.
// The bytes must not change until the promise settles.
Napi::Value ParseSnapshot(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsTypedArray() ||
      info[0].As<Napi::TypedArray>().TypedArrayType() != napi_uint8_array) {
    Napi::TypeError::New(env, "parseSnapshot(bytes) needs a Uint8Array").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  Napi::Uint8Array bytes = info[0].As<Napi::Uint8Array>();
  auto* worker = new SnapshotParseWorker(env, bytes, reinterpret_cast<const char*>(bytes.Data()), bytes.ByteLength());
  Napi::Promise promise = worker->Promise();
  worker->Queue();
  return promise;
}

Napi::Value CompareStrings(const Napi::CallbackInfo& info) {
  if (!expectStrings(info, 2)) return info.Env().Undefined();
  int c = compareUtf16(toWtf8(info[0].As<Napi::String>()), toWtf8(info[1].As<Napi::String>()));
  return Napi::Number::New(info.Env(), c < 0 ? -1 : c > 0 ? 1 : 0);
}

// regexTest(pattern, subject): 1 / 0 as SimpleRegex answers RegExp.test, or
// -1 when the pattern is outside its subset (tests compare it with V8).
Napi::Value RegexTest(const Napi::CallbackInfo& info) {
  if (!expectStrings(info, 2)) return info.Env().Undefined();
  auto regex = SimpleRegex::compile(toWtf8(info[0].As<Napi::String>()));
  if (!regex) return Napi::Number::New(info.Env(), -1);
  SimpleRegex::Scratch scratch;
  return Napi::Number::New(info.Env(), regex->test(toWtf8(info[1].As<Napi::String>()), scratch) ? 1 : 0);
}

// latin1Lower(text): toLowerCase as the evaluator computes it natively, or
// null when it leaves the text to the host (tests compare it with V8).
Napi::Value Latin1Lower(const Napi::CallbackInfo& info) {
  if (!expectStrings(info, 1)) return info.Env().Undefined();
  std::string out;
  if (!latin1Lower(toWtf8(info[0].As<Napi::String>()), out)) return info.Env().Null();
  return Napi::String::New(info.Env(), out);
}

}  // namespace

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  auto* data = new AddonData();
  env.SetInstanceData<AddonData>(data);
  Napi::Function snapshot = SnapshotWrap::DefineClass(env);
  data->snapshotConstructor = Napi::Persistent(snapshot);
  exports.Set("Snapshot", snapshot);
  exports.Set("parseSnapshot", Napi::Function::New(env, ParseSnapshot, "parseSnapshot"));
  exports.Set("CohortStore", CohortStoreWrap::DefineClass(env));
  Napi::Object internals = Napi::Object::New(env);
  internals.Set("murmur3", Napi::Function::New(env, Murmur3, "murmur3"));
  internals.Set("compareVersions", Napi::Function::New(env, CompareVersions, "compareVersions"));
  internals.Set("parseVersionOk", Napi::Function::New(env, ParseVersionOk, "parseVersionOk"));
  internals.Set("numberToString", Napi::Function::New(env, NumberToString, "numberToString"));
  internals.Set("stringToNumber", Napi::Function::New(env, StringToNumber, "stringToNumber"));
  internals.Set("compareStrings", Napi::Function::New(env, CompareStrings, "compareStrings"));
  internals.Set("regexTest", Napi::Function::New(env, RegexTest, "regexTest"));
  internals.Set("latin1Lower", Napi::Function::New(env, Latin1Lower, "latin1Lower"));
  exports.Set("internals", internals);
  // Bump with every change to the interface src/engine/native-engine.ts uses
  // (NATIVE_ABI_VERSION there).
  exports.Set("abiVersion", Napi::Number::New(env, 8));
  return exports;
}

}  // namespace experiment

static Napi::Object InitModule(Napi::Env env, Napi::Object exports) { return experiment::Init(env, exports); }

NODE_API_MODULE(experiment_native, InitModule)
