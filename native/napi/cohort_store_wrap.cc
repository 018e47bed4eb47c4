#include "cohort_store_wrap.h"

#include <cstring>

#if defined(__GLIBC__)
#include <malloc.h>
#endif

#include "cohort_load_worker.h"
#include "js_string.h"

namespace experiment {

namespace {

Napi::Object describe(Napi::Env env, const Cohort& c) {
  Napi::Object o = Napi::Object::New(env);
  o.Set("cohortId", Napi::String::New(env, c.id));
  o.Set("groupType", Napi::String::New(env, c.groupType));
  o.Set("groupTypeId", Napi::Number::New(env, c.groupTypeId));
  o.Set("lastComputed", Napi::Number::New(env, c.lastComputed));
  o.Set("lastModified", Napi::Number::New(env, c.lastModified));
  o.Set("size", Napi::Number::New(env, c.size));
  o.Set("memberCount", Napi::Number::New(env, static_cast<double>(c.members.size())));
  o.Set("memoryBytes", Napi::Number::New(env, static_cast<double>(c.memoryBytes())));
  return o;
}

// A JavaScript string as WTF-8 (lone surrogates kept), the form the parser
// stores ids in. Fast path through V8's UTF-8 writer; only a string whose
// UTF-8 holds U+FFFD (a real one, or V8's replacement of a lone surrogate)
// is re-read as UTF-16 to tell the two apart.
bool toWtf8(napi_env env, napi_value value, std::string& out) {
  char stack[256];
  size_t len = 0;
  if (napi_get_value_string_utf8(env, value, stack, sizeof(stack), &len) != napi_ok) return false;
  if (len + 1 < sizeof(stack)) {
    out.assign(stack, len);
  } else {
    size_t full = 0;
    if (napi_get_value_string_utf8(env, value, nullptr, 0, &full) != napi_ok) return false;
    out.resize(full + 1);
    if (napi_get_value_string_utf8(env, value, &out[0], full + 1, &len) != napi_ok) return false;
    out.resize(len);
  }
  if (out.find("\xEF\xBF\xBD") == std::string::npos) return true;
  size_t units = 0;
  if (napi_get_value_string_utf16(env, value, nullptr, 0, &units) != napi_ok) return false;
  std::u16string u16(units + 1, u'\0');
  if (napi_get_value_string_utf16(env, value, &u16[0], units + 1, &units) != napi_ok) return false;
  out.clear();
  for (size_t i = 0; i < units; i++) {
    uint32_t c = u16[i];
    if (c >= 0xD800 && c <= 0xDBFF && i + 1 < units && u16[i + 1] >= 0xDC00 && u16[i + 1] <= 0xDFFF) {
      c = 0x10000 + ((c - 0xD800) << 10) + (u16[i + 1] - 0xDC00u);
      i++;
    }
    appendCodePoint(c, out);
  }
  return true;
}

}  // namespace

Napi::Function CohortStoreWrap::DefineClass(Napi::Env env) {
  return ObjectWrap<CohortStoreWrap>::DefineClass(
      env, "CohortStore",
      {
          InstanceMethod<&CohortStoreWrap::Load>("load"),
          InstanceMethod<&CohortStoreWrap::Remove>("remove"),
          InstanceMethod<&CohortStoreWrap::Has>("has"),
          InstanceMethod<&CohortStoreWrap::Info>("info"),
          InstanceMethod<&CohortStoreWrap::Ids>("ids"),
          InstanceMethod<&CohortStoreWrap::MemberOf>("memberOf"),
          InstanceMethod<&CohortStoreWrap::MemoryBytes>("memoryBytes"),
          InstanceMethod<&CohortStoreWrap::ReleaseFreeMemory>("releaseFreeMemory"),
      });
}

CohortStoreWrap::CohortStoreWrap(const Napi::CallbackInfo& info) : Napi::ObjectWrap<CohortStoreWrap>(info) {}

CohortStoreWrap::~CohortStoreWrap() {
  if (externalBytes_ != 0) Napi::MemoryManagement::AdjustExternalMemory(Env(), -externalBytes_);
}

void CohortStoreWrap::account(int64_t delta) {
  if (delta == 0) return;
  externalBytes_ += delta;
  Napi::MemoryManagement::AdjustExternalMemory(Env(), delta);
}

Napi::Object CohortStoreWrap::Install(Napi::Env env, std::unique_ptr<Cohort> cohort) {
  int64_t added = static_cast<int64_t>(cohort->memoryBytes());
  Napi::Object info = describe(env, *cohort);
  std::unique_ptr<Cohort> old = store_.put(std::move(cohort));
  int64_t removed = old ? static_cast<int64_t>(old->memoryBytes()) : 0;
  old.reset();
  account(added - removed);
  return info;
}

// load(body: Uint8Array, fallbackId: string): Promise<CohortInfo>
Napi::Value CohortStoreWrap::Load(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsTypedArray()) {
    Napi::TypeError::New(env, "load(body: Uint8Array, cohortId: string)").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  Napi::TypedArray array = info[0].As<Napi::TypedArray>();
  if (array.TypedArrayType() != napi_uint8_array) {
    Napi::TypeError::New(env, "load: body must be a Uint8Array or Buffer").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  Napi::Uint8Array bytes = info[0].As<Napi::Uint8Array>();
  std::string fallback = info.Length() > 1 && info[1].IsString() ? info[1].As<Napi::String>().Utf8Value() : "";
  auto* worker = new CohortLoadWorker(env, this, Value(), bytes, reinterpret_cast<const char*>(bytes.Data()),
                                      bytes.ByteLength(), std::move(fallback));
  Napi::Promise promise = worker->Promise();
  worker->Queue();
  return promise;
}

Napi::Value CohortStoreWrap::Remove(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsString()) return Napi::Boolean::New(env, false);
  std::unique_ptr<Cohort> old = store_.remove(info[0].As<Napi::String>().Utf8Value());
  if (!old) return Napi::Boolean::New(env, false);
  int64_t bytes = static_cast<int64_t>(old->memoryBytes());
  old.reset();
  account(-bytes);
  return Napi::Boolean::New(env, true);
}

Napi::Value CohortStoreWrap::Has(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsString()) return Napi::Boolean::New(env, false);
  return Napi::Boolean::New(env, store_.get(info[0].As<Napi::String>().Utf8Value()) != nullptr);
}

Napi::Value CohortStoreWrap::Info(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsString()) return env.Undefined();
  const Cohort* c = store_.get(info[0].As<Napi::String>().Utf8Value());
  if (c == nullptr) return env.Undefined();
  return describe(env, *c);
}

Napi::Value CohortStoreWrap::Ids(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::vector<std::string> ids = store_.ids();
  Napi::Array out = Napi::Array::New(env, ids.size());
  for (uint32_t i = 0; i < ids.size(); i++) out.Set(i, Napi::String::New(env, ids[i]));
  return out;
}

// memberOf(groupType: string, member: unknown, cohortIds: string[]): string[]
// The cohortIds (same string values, same order) whose cohort is loaded, has
// this group type and contains the member. A non-string member is in none,
// as Set.has(nonString) is false for the official SDK's string sets.
Napi::Value CohortStoreWrap::MemberOf(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Array out = Napi::Array::New(env);
  if (info.Length() < 3 || !info[0].IsString() || !info[1].IsString() || !info[2].IsArray()) return out;
  if (store_.count() == 0) return out;
  if (!toWtf8(env, info[1], member_)) return out;
  MemberSet::encode(member_, record_);
  const uint64_t h = MemberSet::hash(record_);
  if (!toWtf8(env, info[0], groupType_)) return out;
  Napi::Array ids = info[2].As<Napi::Array>();
  const uint32_t n = ids.Length();
  uint32_t found = 0;
  for (uint32_t i = 0; i < n; i++) {
    Napi::Value id = ids.Get(i);
    if (!id.IsString() || !toWtf8(env, id, key_)) continue;
    if (store_.isMember(key_, groupType_, record_, h)) out.Set(found++, id);
  }
  return out;
}

namespace {

// Returns freed heap memory to the OS (glibc malloc_trim) on a libuv worker.
// A cohort download leaves tens of MB of freed socket-read chunks in
// malloc's arenas, which glibc keeps resident once its dynamic trim
// threshold has grown; trimming after they are collected gives it back.
class TrimWorker : public Napi::AsyncWorker {
 public:
  explicit TrimWorker(Napi::Env env)
      : Napi::AsyncWorker(env, "experiment:releaseFreeMemory"), deferred_(Napi::Promise::Deferred::New(env)) {}
  Napi::Promise Promise() { return deferred_.Promise(); }

 protected:
  void Execute() override {
#if defined(__GLIBC__)
    trimmed_ = malloc_trim(0) != 0;
#endif
  }
  void OnOK() override { deferred_.Resolve(Napi::Boolean::New(Env(), trimmed_)); }
  void OnError(const Napi::Error& error) override { deferred_.Reject(error.Value()); }

 private:
  Napi::Promise::Deferred deferred_;
  bool trimmed_ = false;
};

}  // namespace

// releaseFreeMemory(): Promise<boolean> (false where there is nothing to do or no glibc).
Napi::Value CohortStoreWrap::ReleaseFreeMemory(const Napi::CallbackInfo& info) {
  auto* worker = new TrimWorker(info.Env());
  Napi::Promise promise = worker->Promise();
  worker->Queue();
  return promise;
}

Napi::Value CohortStoreWrap::MemoryBytes(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), static_cast<double>(store_.memoryBytes()));
}

}  // namespace experiment
