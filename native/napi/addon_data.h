// Per-napi_env state of the addon (instance data): nothing is shared between
// the main thread and worker_threads.
#pragma once

#include <napi.h>

#include <string>

#include "evaluator.h"

namespace experiment {

struct AddonData {
  Napi::FunctionReference snapshotConstructor;
  Evaluator evaluator;
  std::string userBuffer;
  std::u16string cellText;
};

}  // namespace experiment
