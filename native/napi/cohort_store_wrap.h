// The JavaScript face of a CohortStore: one per client (no process-wide
// state; each napi_env, main thread or worker, has its own instances).
//
//   const store = new addon.CohortStore();
//   await store.load(bodyBytes, 'cohortId');   // parsed on a libuv worker thread
//   store.memberOf('User', userId, ['c1', 'c2']);  // -> ids of the cohorts the user is in
#pragma once

#include <napi.h>

#include <memory>
#include <string>

#include "cohort_store.h"

namespace experiment {

class CohortStoreWrap : public Napi::ObjectWrap<CohortStoreWrap> {
 public:
  static Napi::Function DefineClass(Napi::Env env);
  explicit CohortStoreWrap(const Napi::CallbackInfo& info);
  ~CohortStoreWrap() override;

  // Main thread: installs a parsed cohort, returning its description for JavaScript.
  Napi::Object Install(Napi::Env env, std::unique_ptr<Cohort> cohort);

 private:
  Napi::Value Load(const Napi::CallbackInfo& info);
  Napi::Value Remove(const Napi::CallbackInfo& info);
  Napi::Value Has(const Napi::CallbackInfo& info);
  Napi::Value Info(const Napi::CallbackInfo& info);
  Napi::Value Ids(const Napi::CallbackInfo& info);
  Napi::Value MemberOf(const Napi::CallbackInfo& info);
  Napi::Value MemoryBytes(const Napi::CallbackInfo& info);
  Napi::Value ReleaseFreeMemory(const Napi::CallbackInfo& info);

  void account(int64_t delta);

  CohortStore store_;
  int64_t externalBytes_ = 0;
  std::string member_;
  std::string record_;
  std::string key_;
  std::string groupType_;
};

}  // namespace experiment
