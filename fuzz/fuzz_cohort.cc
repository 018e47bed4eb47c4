// libFuzzer target: the cohort download parser (CohortParser) on arbitrary
// body bytes, then the store and membership lookups on what it built.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <set>
#include <string>

#include "cohort_parser.h"
#include "cohort_store.h"
#include "json_document.h"
#include "json_parser.h"
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
  std::string_view input(reinterpret_cast<const char*>(data), size);
  // Differential against the project's general JSON parser (JSON.parse rules,
  // network-body decoding): a body the cohort parser accepts is valid JSON,
  // and every string in its memberIds is a member; the member count is the
  // number of distinct strings.
  {
    JsonDocument doc;
    JsonParser json(1u << 24, JsonParser::DepthPolicy::Fail, false);
    uint32_t root = json.parse(input, doc);
    if (root == kNoNode) __builtin_trap();
    if (doc.type(root) != JsonType::Object) __builtin_trap();
    uint32_t ids = kNoNode, keys = 0;
    for (uint32_t i = 0; i < doc.size(root); i++) {
      if (doc.string(doc.memberKey(root, i)) == "memberIds") {
        ids = doc.memberValue(root, i);
        keys++;
      }
    }
    if (keys == 1) {
      if (doc.type(ids) != JsonType::Array) __builtin_trap();
      std::set<std::string> distinct;
      for (uint32_t i = 0; i < doc.size(ids); i++) {
        uint32_t e = doc.element(ids, i);
        if (doc.type(e) != JsonType::String) continue;
        std::string_view id = doc.string(e);
        if (!cohort->members.containsId(id)) __builtin_trap();
        distinct.emplace(id);
      }
      if (distinct.size() != cohort->members.size()) __builtin_trap();
    }
  }
  // Probe with slices of the input too.
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
