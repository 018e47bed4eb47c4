// Parses a flag payload off the main thread (Napi::AsyncWorker on the libuv
// pool) and resolves with a Snapshot object ready to finalize. Keeps the
// payload bytes alive until then.
#pragma once

#include <napi.h>

#include <memory>
#include <string>

#include "snapshot.h"

namespace experiment {

class SnapshotParseWorker : public Napi::AsyncWorker {
 public:
  SnapshotParseWorker(Napi::Env env, Napi::Object payload, const char* data, size_t size);

  Napi::Promise Promise() { return deferred_.Promise(); }

 protected:
  void Execute() override;
  void OnOK() override;
  void OnError(const Napi::Error& error) override;

 private:
  Napi::Promise::Deferred deferred_;
  Napi::ObjectReference payloadRef_;
  const char* data_;
  size_t size_;
  std::unique_ptr<Snapshot> result_;
};

}  // namespace experiment
