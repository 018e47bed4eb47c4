// libFuzzer target: the cohort download parser (CohortParser) on arbitrary
// body bytes, then the store and membership lookups on what it built.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "cohort_parser.h"
#include "cohort_store.h"
#include "member_set.h"

using namespace experiment;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  CohortParser parser(reinterpret_cast<const char*>(data), size);
  std::string error;
  std::unique_ptr<Cohort> cohort = parser.parse("fallback", &error);
  if (!cohort) {
    if (error.empty()) __builtin_trap();
    return 0;
  }
  // Every id is a member of its own set; probe with slices of the input too.
  std::string_view input(reinterpret_cast<const char*>(data), size);
  std::string record;
  for (size_t len : {size_t(0), size_t(1), size_t(36), size / 2, size}) {
    std::string_view probe = input.substr(0, len < size ? len : size);
    MemberSet::encode(probe, record);
    (void)cohort->members.contains(record, MemberSet::hash(record));
    (void)cohort->members.containsId(probe);
  }
  (void)cohort->memoryBytes();
  CohortStore store;
  std::string id = cohort->id, group = cohort->groupType;
  store.put(std::move(cohort));
  MemberSet::encode("00000000-0000-0000-0000-000000000000", record);
  (void)store.isMember(id, group, record, MemberSet::hash(record));
  std::unique_ptr<Cohort> again = store.remove(id);
  if (!again) __builtin_trap();
  return 0;
}
