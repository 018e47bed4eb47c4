// The JavaScript face of a Snapshot: construction from payload bytes,
// finalization with the host's regex and lower-casing, and the evaluate hot path.
#pragma once

#include <napi.h>

#include <memory>

#include "evaluator.h"
#include "snapshot.h"

namespace experiment {

class SnapshotWrap : public Napi::ObjectWrap<SnapshotWrap> {
 public:
  static Napi::Function DefineClass(Napi::Env env);
  explicit SnapshotWrap(const Napi::CallbackInfo& info);
  ~SnapshotWrap() override;

 private:
  Napi::Value RegexPatterns(const Napi::CallbackInfo& info);
  Napi::Value NonAsciiContainsValues(const Napi::CallbackInfo& info);
  // Not named Finalize: that would hide ObjectWrap's virtual Finalize(Napi::Env).
  Napi::Value FinalizeSnapshot(const Napi::CallbackInfo& info);
  Evaluator* BeginCall(const Napi::CallbackInfo& info, const int32_t** keys, uint32_t* count);
  Napi::Value Evaluate(const Napi::CallbackInfo& info);
  Napi::Value EvaluateCells(const Napi::CallbackInfo& info);
  Napi::Value Explain(const Napi::CallbackInfo& info);
  Napi::Value ReadSlots(const Napi::CallbackInfo& info);

  std::unique_ptr<Snapshot> snapshot_;
  bool finalized_ = false;
  Napi::FunctionReference regexTest_;
  Napi::FunctionReference toLowerCase_;
  Napi::Reference<Napi::Int32Array> output_;
  Napi::Reference<Napi::Int32Array> keys_;
  Napi::Reference<Napi::Float64Array> cells_;
  double* cellsData_ = nullptr;
  uint32_t cellsCapacity_ = 0;  // in (kind, x) pairs
  int32_t* outputData_ = nullptr;
  uint32_t outputCapacity_ = 0;
  int32_t* keysData_ = nullptr;
  uint32_t keysCapacity_ = 0;
};

}  // namespace experiment
