// libFuzzer target: the evaluator. The input is a flag payload and a user
// JSON separated by the first "\n----\n"; without a separator the whole
// input is the user, evaluated against a fixed realistic payload (so the
// user side is fuzzed even when the config side is not a valid payload).
// Each user is evaluated for all flags and for a subset of flag indices.
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "fuzz_host.h"

using namespace experiment;

namespace {

const char kDefaultFlags[] = R"json([
{"key":"f-regex","metadata":{"flagType":"release"},"segments":[{"conditions":[[{"op":"regex match","selector":["context","user","user_id"],"values":["^u.*"]}]],"variant":"on"},{"variant":"off"}],"variants":{"off":{"key":"off"},"on":{"key":"on","value":"on"}}},
{"key":"f-bucket","dependencies":["f-regex"],"segments":[{"bucket":{"allocations":[{"distributions":[{"range":[0,21474837],"variant":"a"},{"range":[21474837,42949673],"variant":"b"}],"range":[0,100]}],"salt":"s","selector":["context","user","device_id"]},"conditions":[[{"op":"is","selector":["result","f-regex","key"],"values":["on"]}]]},{"variant":"off"}],"variants":{"a":{"key":"a","value":"a","payload":{"x":[1,2]}},"b":{"key":"b","value":"b"},"off":{"key":"off"}}},
{"key":"f-ops","segments":[{"conditions":[[{"op":"version greater or equal","selector":["context","user","version"],"values":["1.2.3"]}],[{"op":"set contains any","selector":["context","user","user_properties","tags"],"values":["x","Y","true"]}],[{"op":"greater","selector":["context","user","user_properties","n"],"values":["10","1e3"]}],[{"op":"contains","selector":["context","user","country"],"values":["ÜS","de"]}],[{"op":"is not","selector":["context","groups","org","group_properties","plan"],"values":["(none)"]}],[{"op":"set is","selector":["context","user","cohort_ids"],"values":["c1","c2"]}],[{"op":"is","selector":["context","user","user_properties","constructor"],"values":["x"]}],[{"op":"does not contain","selector":["context","user","user_properties","__proto__","toString"],"values":["native"]}]],"variant":"on"},{"variant":"off"}],"variants":{"off":{"key":"off"},"on":{"key":"on","value":"on"}}},
{"key":"f-words","dependencies":["f-bucket"],"segments":[{"conditions":[[{"op":"is","selector":["context","user","user_properties","flag"],"values":["TRUE","x"]},{"op":"is not","selector":["result","f-bucket","key"],"values":["b"]}]],"variant":"on"},{"conditions":[[{"op":"is not","selector":["context","user","user_properties","flag"],"values":["false"]},{"op":"is","selector":["context","user","user_properties","flag"],"values":["y","z"]}]],"variant":"off"},{"bucket":{"allocations":[{"distributions":[{"range":[0.5,21474836.5],"variant":"on"},{"range":[-3,4e10],"variant":"off"}],"range":[10.5,99.5]}],"salt":"w","selector":["context","user","user_id"]},"variant":"off"}],"variants":{"off":{"key":"off"},"on":{"key":"on"}}}
])json";

struct Fixed {
  Snapshot snapshot;
  Fixed() {
    std::string error;
    if (!snapshot.parse(kDefaultFlags, error)) __builtin_trap();
    fuzz::finalizeLikeHost(snapshot);
  }
};

void run(const Snapshot& snapshot, Evaluator& evaluator, const std::string& user, uint32_t pick) {
  const uint32_t n = static_cast<uint32_t>(snapshot.flags().size());
  std::vector<int32_t> out(2 * n + 2, -7);
  fuzz::StubScriptHost host(snapshot);
  evaluator.setUser(user);
  uint32_t written = evaluator.evaluate(snapshot, host, nullptr, 0, {out.data(), n + 1});
  if (written > n) __builtin_trap();
  for (uint32_t i = 0; i < written; i++) {
    if (out[2 * i] < 0 || static_cast<uint32_t>(out[2 * i]) >= n) __builtin_trap();
    if (out[2 * i + 1] >= static_cast<int32_t>(snapshot.resultCount())) __builtin_trap();
  }
  // Per-call state must not leak between calls: after evaluating another
  // user (no user, and the bare context), the same user gives the same output.
  std::vector<int32_t> first(out.begin(), out.begin() + 2 * written);
  evaluator.setUser("");
  evaluator.evaluate(snapshot, host, nullptr, 0, {out.data(), n + 1});
  evaluator.setUser("{\"user_id\":\"other\",\"device_id\":\"x\",\"user_properties\":{\"a\":[1,\"b\"]}}");
  evaluator.evaluate(snapshot, host, nullptr, 0, {out.data(), n + 1});
  evaluator.setUser(user);
  uint32_t again = evaluator.evaluate(snapshot, host, nullptr, 0, {out.data(), n + 1});
  if (again != written || !std::equal(first.begin(), first.end(), out.begin())) __builtin_trap();
  // explain() (evaluateV2Details) visits the same flags in the same order
  // with the same results, and writes valid JSON.
  std::string json;
  evaluator.setUser(user);
  if (evaluator.explain(snapshot, host, nullptr, 0, json) != written) __builtin_trap();
  JsonDocument doc;
  JsonParser parser(1u << 20, JsonParser::DepthPolicy::Fail, true);
  uint32_t root = parser.parse(json, doc);
  if (root == kNoNode || doc.type(root) != JsonType::Object) __builtin_trap();
  uint32_t traced = doc.find(root, "flags");
  if (traced == kNoNode || doc.type(traced) != JsonType::Array || doc.size(traced) != written) __builtin_trap();
  for (uint32_t i = 0; i < written; i++) {
    uint32_t entry = doc.element(traced, i);
    uint32_t flagNode = doc.find(entry, "flag"), resultNode = doc.find(entry, "result");
    if (flagNode == kNoNode || resultNode == kNoNode) __builtin_trap();
    if (doc.node(flagNode).number != first[2 * i] || doc.node(resultNode).number != first[2 * i + 1]) __builtin_trap();
  }
  if (n == 0) return;
  // A subset: flag indices from the input, one out of range like a stale key buffer would not be.
  std::vector<int32_t> keys;
  for (uint32_t k = 0; k < 3; k++) keys.push_back(static_cast<int32_t>((pick >> (8 * k)) % n));
  evaluator.setUser(user);
  written = evaluator.evaluate(snapshot, host, keys.data(), static_cast<uint32_t>(keys.size()), {out.data(), n + 1});
  if (written > n) __builtin_trap();
  // Slot values as cells (Evaluator::setSlotCells, the usual all-flags and one-flag path): pairs and text made
  // from the input bytes, so kinds, counts and string lengths are anything (negative, NaN, past the end).
  std::vector<double> cells;
  std::u16string text;
  for (size_t i = 0; i + 1 < user.size(); i += 2) {
    const auto a = static_cast<uint8_t>(user[i]), b = static_cast<uint8_t>(user[i + 1]);
    cells.push_back(static_cast<double>(a % 7));
    cells.push_back(b == 0xff ? NAN : (b & 0x80) ? -static_cast<double>(b & 0x7f) : static_cast<double>(b % 9));
    text.push_back(static_cast<char16_t>(a << 8 | b));
  }
  const uint32_t pairs = static_cast<uint32_t>(cells.size() / 2);
  evaluator.setSlotCells(cells.data(), pairs, text, snapshot.allReadSlots());
  written = evaluator.evaluate(snapshot, host, nullptr, 0, {out.data(), n + 1});
  if (written > n) __builtin_trap();
  const auto one = static_cast<uint32_t>(pick % n);
  evaluator.setSlotCells(cells.data(), pairs, text, snapshot.readSlots(one));
  const int32_t key = static_cast<int32_t>(one);
  written = evaluator.evaluate(snapshot, host, &key, 1, {out.data(), n + 1});
  if (written > n) __builtin_trap();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static Fixed fixed;
  static Evaluator evaluator;  // reused across inputs, as per napi_env
  std::string_view input(reinterpret_cast<const char*>(data), size);
  static const std::string_view kSep = "\n----\n";
  size_t sep = input.find(kSep);
  uint32_t pick = 0;
  for (size_t i = 0; i < size && i < 4; i++) pick = pick * 131 + data[i];
  if (sep == std::string_view::npos) {
    run(fixed.snapshot, evaluator, fuzz::toValidUtf8(input), pick);
    return 0;
  }
  Snapshot snapshot;
  std::string error;
  if (!snapshot.parse(input.substr(0, sep), error)) return 0;
  fuzz::finalizeLikeHost(snapshot);
  run(snapshot, evaluator, fuzz::toValidUtf8(input.substr(sep + kSep.size())), pick);
  return 0;
}
