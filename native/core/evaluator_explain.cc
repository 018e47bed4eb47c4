// Evaluator::explain: the evaluation trace behind evaluateV2Details. Kept out
// of evaluator.cc so the hot path (evaluate, evaluateFlag) is untouched: this
// file only adds a second entry point that, for each flag, first traces the
// segments with the same condition and bucketing code the hot path uses, then
// takes the flag's result from evaluateFlag itself, so the variant reported is
// by construction the one evaluate() returns.
//
// Output: {"flags":[<flag>...]} in evaluation order, where <flag> is
//   {"flag":<index>,"result":<result id or -1>,"segments":[<segment>...]}
// and <segment> (segments are tried in order until one gives a variant) is
//   {"conditions":<bool: all groups considered, did one match (true when the segment has none)>,
//    "groups":[[{"matched":<bool>,"value":<what the selector saw>}...]...],   (when it has conditions;
//        each OR-group lists its AND-conditions up to the first false one; groups after a matching one are not tried)
//    "bucket":{"value":<string or null>,"hash":<murmur3>,"allocationValue":<hash % 100>,
//              "distributionValue":<floor(hash / 100)>,"allocation":<index or -1>,"distribution":<index or -1>},
//    "variant":<variant index the segment gives, or -1>}
// "value" is null for a missing value, an array for a value the engine treats
// as a list, otherwise the string the condition compared.
#include <cmath>

#include "evaluator.h"
#include "js_string.h"
#include "murmur3.h"

namespace experiment {

uint32_t Evaluator::explain(const Snapshot& snapshot, ScriptHost& host, const int32_t* keys, uint32_t keyCount,
                            std::string& json) {
  beginCall(snapshot, host);
  uint32_t visited = 0;
  json.append("{\"flags\":[");
  auto visit = [&](uint32_t f) {
    if (visited++ > 0) json.push_back(',');
    traceFlag(f, json);
  };
  forEachRequested(snapshot, keys, keyCount, visit);
  json.append("]}");
  return visited;
}

void Evaluator::traceSelected(const Selector& selector, std::string& json) {
  const Value v = select(selector);
  if (v.kind == Value::Kind::Missing) {
    json.append("null");
    return;
  }
  if (coerceList(v)) {
    json.push_back('[');
    for (size_t i = 0; i < list_.size(); i++) {
      if (i > 0) json.push_back(',');
      appendJsonQuoted(list_[i], json);
    }
    json.push_back(']');
    return;
  }
  std::string buffer;
  std::string_view s;
  if (!coerceString(v, buffer, s)) {
    json.append("null");
    return;
  }
  appendJsonQuoted(s, json);
}

void Evaluator::traceFlag(uint32_t flagIndex, std::string& json) {
  const Flag& flag = snapshot_->flags()[flagIndex];
  json.append("{\"flag\":");
  json.append(std::to_string(flagIndex));
  json.append(",\"segments\":[");
  for (size_t s = 0; s < flag.segments.size(); s++) {
    const Segment& seg = flag.segments[s];
    if (s > 0) json.push_back(',');
    json.append("{\"conditions\":");
    bool matched = true;
    std::string groups;
    if (seg.hasConditions) {
      matched = false;
      groups.append(",\"groups\":[");
      for (size_t g = 0; g < seg.conditions.size() && !matched; g++) {
        if (g > 0) groups.push_back(',');
        groups.push_back('[');
        bool all = true;
        for (size_t k = 0; k < seg.conditions[g].size() && all; k++) {
          const Condition& c = seg.conditions[g][k];
          all = matchCondition(c);
          if (k > 0) groups.push_back(',');
          groups.append(all ? "{\"matched\":true,\"value\":" : "{\"matched\":false,\"value\":");
          traceSelected(c.selector, groups);
          groups.push_back('}');
        }
        groups.push_back(']');
        if (all) matched = true;
      }
      groups.push_back(']');
    }
    json.append(matched ? "true" : "false");
    json.append(groups);
    if (!matched) {
      json.append(",\"variant\":-1}");
      continue;
    }
    if (seg.hasBucket) {
      json.append(",\"bucket\":{\"value\":");
      std::string buffer;
      std::string_view value;
      if (!coerceString(select(seg.bucketSelector), buffer, value) || value.empty()) {
        json.append("null}");
      } else {
        std::string input(seg.saltSlash);
        input.append(value);
        const uint32_t hash = murmur3_x86_32(input.data(), input.size(), 0);
        const double allocationValue = hash % 100;
        const double distributionValue = std::floor(hash / 100);
        // As bucket(): the first distribution in range of the first allocation in range that has one; when
        // none has, the first allocation in range (or -1) with distribution -1.
        int32_t allocation = -1, distribution = -1, firstInRange = -1;
        for (size_t a = 0; a < seg.allocations.size() && distribution < 0; a++) {
          const Allocation& alloc = seg.allocations[a];
          if (allocationValue >= alloc.start && allocationValue < alloc.end) {
            if (firstInRange < 0) firstInRange = static_cast<int32_t>(a);
            for (size_t d = 0; d < alloc.distributions.size(); d++) {
              const Distribution& dist = alloc.distributions[d];
              if (distributionValue >= dist.start && distributionValue < dist.end) {
                allocation = static_cast<int32_t>(a);
                distribution = static_cast<int32_t>(d);
                break;
              }
            }
          }
        }
        if (allocation < 0) allocation = firstInRange;
        appendJsonQuoted(value, json);
        json.append(",\"hash\":");
        json.append(std::to_string(hash));
        json.append(",\"allocationValue\":");
        appendJsNumber(allocationValue, json);
        json.append(",\"distributionValue\":");
        appendJsNumber(distributionValue, json);
        json.append(",\"allocation\":");
        json.append(std::to_string(allocation));
        json.append(",\"distribution\":");
        json.append(std::to_string(distribution));
        json.push_back('}');
      }
    }
    const int32_t variant = bucket(seg);
    json.append(",\"variant\":");
    json.append(std::to_string(variant));
    json.push_back('}');
    if (variant >= 0) break;  // this segment gives the result; later ones are not tried
  }
  // The result itself comes from the hot path's evaluateFlag.
  const int32_t rid = evaluateFlag(flagIndex);
  json.append("],\"result\":");
  json.append(std::to_string(rid));
  json.push_back('}');
}

}  // namespace experiment
