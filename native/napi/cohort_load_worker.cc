#include "cohort_load_worker.h"

#include "cohort_parser.h"
#include "cohort_store_wrap.h"

namespace experiment {

CohortLoadWorker::CohortLoadWorker(Napi::Env env, CohortStoreWrap* store, Napi::Object storeObject, Napi::Object body,
                                   const char* data, size_t size, std::string fallbackId)
    : Napi::AsyncWorker(env, "experiment:cohortLoad"),
      deferred_(Napi::Promise::Deferred::New(env)),
      store_(store),
      storeRef_(Napi::Persistent(storeObject)),
      bodyRef_(Napi::Persistent(body)),
      data_(data),
      size_(size),
      fallbackId_(std::move(fallbackId)) {}

void CohortLoadWorker::Execute() {
  std::string error;
  CohortParser parser(data_, size_);
  result_ = parser.parse(fallbackId_, &error);
  if (!result_) SetError("cohort payload not parsed: " + error);
}

void CohortLoadWorker::OnOK() {
  Napi::Env env = Env();
  Napi::HandleScope scope(env);
  Napi::Object info = store_->Install(env, std::move(result_));
  bodyRef_.Reset();
  deferred_.Resolve(info);
}

void CohortLoadWorker::OnError(const Napi::Error& error) {
  bodyRef_.Reset();
  deferred_.Reject(error.Value());
}

}  // namespace experiment
