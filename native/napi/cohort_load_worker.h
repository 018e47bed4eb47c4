// Parses one cohort download off the main thread (Napi::AsyncWorker on the
// libuv pool) and installs it in its CohortStoreWrap when done. Keeps the
// body buffer and the store object alive until then.
#pragma once

#include <napi.h>

#include <memory>
#include <string>

#include "cohort_store.h"

namespace experiment {

class CohortStoreWrap;

class CohortLoadWorker : public Napi::AsyncWorker {
 public:
  CohortLoadWorker(Napi::Env env, CohortStoreWrap* store, Napi::Object storeObject, Napi::Object body, const char* data,
                   size_t size, std::string fallbackId);

  Napi::Promise Promise() { return deferred_.Promise(); }

 protected:
  void Execute() override;
  void OnOK() override;
  void OnError(const Napi::Error& error) override;

 private:
  Napi::Promise::Deferred deferred_;
  CohortStoreWrap* store_;
  Napi::ObjectReference storeRef_;
  Napi::ObjectReference bodyRef_;
  const char* data_;
  size_t size_;
  std::string fallbackId_;
  std::unique_ptr<Cohort> result_;
};

}  // namespace experiment
