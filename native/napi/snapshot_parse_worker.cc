#include "snapshot_parse_worker.h"

#include "addon_data.h"

namespace experiment {

SnapshotParseWorker::SnapshotParseWorker(Napi::Env env, Napi::Object payload, const char* data, size_t size)
    : Napi::AsyncWorker(env, "experiment:snapshotParse"),
      deferred_(Napi::Promise::Deferred::New(env)),
      payloadRef_(Napi::Persistent(payload)),
      data_(data),
      size_(size) {}

void SnapshotParseWorker::Execute() {
  // Worker thread: no N-API calls here, only the pure C++ parse.
  auto snapshot = std::make_unique<Snapshot>();
  std::string error;
  if (!snapshot->parse(std::string_view(data_, size_), error)) {
    SetError(error);
    return;
  }
  result_ = std::move(snapshot);
}

void SnapshotParseWorker::OnOK() {
  Napi::Env env = Env();
  AddonData* data = env.GetInstanceData<AddonData>();
  // The constructor takes ownership of the parsed snapshot through an External.
  Napi::Value handle = data->snapshotConstructor.New({Napi::External<Snapshot>::New(env, result_.release())});
  if (env.IsExceptionPending()) {
    deferred_.Reject(env.GetAndClearPendingException().Value());
    return;
  }
  deferred_.Resolve(handle);
}

void SnapshotParseWorker::OnError(const Napi::Error& error) { deferred_.Reject(error.Value()); }

}  // namespace experiment
