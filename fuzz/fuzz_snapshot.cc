// libFuzzer target: the flag-config parser (Snapshot::parse) and the
// compile/validate/order pass (finalize) on arbitrary payload bytes, as they
// arrive from the network.
#include <cstddef>
#include <cstdint>
#include <string>

#include "fuzz_host.h"

using namespace experiment;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  Snapshot snapshot;
  std::string error;
  std::string_view payload(reinterpret_cast<const char*>(data), size);
  if (!snapshot.parse(payload, error)) {
    if (error.empty()) __builtin_trap();  // a rejection always says why
    return 0;
  }
  fuzz::finalizeLikeHost(snapshot);
  // Deterministic: a second parse of the same bytes keeps and rejects the same flags, in the same order.
  Snapshot again;
  std::string error2;
  if (!again.parse(payload, error2)) __builtin_trap();
  fuzz::finalizeLikeHost(again);
  if (again.flags().size() != snapshot.flags().size() || again.rejected().size() != snapshot.rejected().size() ||
      again.allOrder() != snapshot.allOrder())
    __builtin_trap();
  for (size_t i = 0; i < again.flags().size(); i++) {
    if (again.flags()[i].key != snapshot.flags()[i].key) __builtin_trap();
  }
  // Invariants the binding relies on.
  const auto& flags = snapshot.flags();
  if (snapshot.allOrder().size() > flags.size()) __builtin_trap();
  for (uint32_t i : snapshot.allOrder()) {
    if (i >= flags.size()) __builtin_trap();
  }
  for (uint32_t i = 0; i < flags.size(); i++) {
    if (snapshot.indexOf(flags[i].key) < 0) __builtin_trap();
    for (uint32_t dep : snapshot.closure(i)) {
      if (dep >= flags.size()) __builtin_trap();
    }
  }
  return 0;
}
