#include "snapshot.h"

#include <algorithm>
#include <cmath>

#include "js_string.h"
#include "json_parser.h"

namespace experiment {

namespace {

constexpr uint32_t kMaxPayloadDepth = 1000;

const char* typeName(JsonType t) {
  switch (t) {
    case JsonType::Null:
      return "null";
    case JsonType::True:
    case JsonType::False:
      return "a boolean";
    case JsonType::Number:
      return "a number";
    case JsonType::String:
      return "a string";
    case JsonType::Array:
      return "an array";
    case JsonType::Object:
      return "an object";
    case JsonType::Raw:
    case JsonType::Script:
      return "a value";
  }
  return "a value";
}

bool isObject(const JsonDocument& d, uint32_t id) { return id != kNoNode && d.type(id) == JsonType::Object; }
bool isArray(const JsonDocument& d, uint32_t id) { return id != kNoNode && d.type(id) == JsonType::Array; }
bool isAbsent(const JsonDocument& d, uint32_t id) { return id == kNoNode || d.type(id) == JsonType::Null; }

std::string quoted(std::string_view s) {
  std::string out;
  appendJsonQuoted(s, out);
  return out;
}

}  // namespace

Op parseOp(std::string_view op) {
  static const std::pair<const char*, Op> table[] = {
      {"is", Op::Is},
      {"is not", Op::IsNot},
      {"contains", Op::Contains},
      {"does not contain", Op::DoesNotContain},
      {"less", Op::Less},
      {"less or equal", Op::LessOrEqual},
      {"greater", Op::Greater},
      {"greater or equal", Op::GreaterOrEqual},
      {"version less", Op::VersionLess},
      {"version less or equal", Op::VersionLessOrEqual},
      {"version greater", Op::VersionGreater},
      {"version greater or equal", Op::VersionGreaterOrEqual},
      {"set is", Op::SetIs},
      {"set is not", Op::SetIsNot},
      {"set contains", Op::SetContains},
      {"set does not contain", Op::SetDoesNotContain},
      {"set contains any", Op::SetContainsAny},
      {"set does not contain any", Op::SetDoesNotContainAny},
      {"regex match", Op::RegexMatch},
      {"regex does not match", Op::RegexDoesNotMatch},
  };
  for (const auto& entry : table) {
    if (op == entry.first) return entry.second;
  }
  return Op::Unknown;
}

bool Snapshot::parse(std::string_view payload, std::string& error) {
  JsonParser parser(kMaxPayloadDepth, JsonParser::DepthPolicy::Fail);
  std::vector<std::pair<size_t, size_t>> spans;
  uint32_t root = parser.parse(payload, doc_, &spans);
  if (root == kNoNode) {
    error = "flag payload is not valid JSON: " + parser.error();
    return false;
  }
  if (doc_.type(root) != JsonType::Array) {
    error = std::string("flag payload must be a JSON array of flags, got ") + typeName(doc_.type(root));
    return false;
  }
  const uint32_t n = doc_.size(root);
  candidates_.resize(n);
  for (uint32_t i = 0; i < n; i++) {
    Candidate& c = candidates_[i];
    c.flag.node = doc_.element(root, i);
    c.flag.payloadIndex = i;
    if (i < spans.size()) {
      c.flag.payloadStart = spans[i].first;
      c.flag.payloadLength = spans[i].second;
    }
    compilingReadsCohorts_ = false;
    bool compiled = compileFlag(c.flag.node, c.flag, c.reason);
    c.flag.readsCohorts = compilingReadsCohorts_;
    if (!compiled) {
      c.rejected = true;
      if (c.flag.key.empty()) c.flag.key = "#" + std::to_string(i);
    }
  }
  return true;
}

bool Snapshot::compileFlag(uint32_t node, Flag& flag, std::string& reason) {
  const JsonDocument& d = doc_;
  if (!isObject(d, node)) {
    reason = std::string("flag must be an object, got ") + typeName(d.type(node));
    return false;
  }
  uint32_t key = d.find(node, "key");
  if (key == kNoNode || d.type(key) != JsonType::String) {
    reason = "flag has no string \"key\"";
    return false;
  }
  flag.key = std::string(d.string(key));
  uint32_t metadata = d.find(node, "metadata");
  if (!isAbsent(d, metadata) && !isObject(d, metadata)) {
    reason = "flag metadata must be an object";
    return false;
  }
  uint32_t variants = d.find(node, "variants");
  if (!isObject(d, variants)) {
    reason = variants == kNoNode ? "flag has no \"variants\"" : "flag \"variants\" must be an object";
    return false;
  }
  for (uint32_t i = 0; i < d.size(variants); i++) {
    uint32_t v = d.memberValue(variants, i);
    std::string_view vkey = d.string(d.memberKey(variants, i));
    if (!isObject(d, v)) {
      reason = "variant " + quoted(vkey) + " must be an object";
      return false;
    }
    uint32_t vmeta = d.find(v, "metadata");
    if (!isAbsent(d, vmeta) && !isObject(d, vmeta)) {
      reason = "variant " + quoted(vkey) + " metadata must be an object";
      return false;
    }
    flag.variantKeys.emplace_back(vkey);
    flag.variantNodes.push_back(v);
  }
  uint32_t deps = d.find(node, "dependencies");
  if (!isAbsent(d, deps)) {
    if (!isArray(d, deps)) {
      reason = "flag \"dependencies\" must be an array of flag keys";
      return false;
    }
    for (uint32_t i = 0; i < d.size(deps); i++) {
      uint32_t dep = d.element(deps, i);
      if (d.type(dep) != JsonType::String) {
        reason = "flag \"dependencies\" must hold strings";
        return false;
      }
      flag.dependencies.emplace_back(d.string(dep));
    }
  }
  uint32_t segments = d.find(node, "segments");
  if (!isArray(d, segments)) {
    reason = segments == kNoNode ? "flag has no \"segments\"" : "flag \"segments\" must be an array";
    return false;
  }
  flag.segments.resize(d.size(segments));
  for (uint32_t i = 0; i < d.size(segments); i++) {
    if (!compileSegment(flag, d.element(segments, i), flag.segments[i], reason)) {
      reason = "segment " + std::to_string(i) + ": " + reason;
      return false;
    }
  }
  return true;
}

int32_t Snapshot::variantIndex(const Flag& flag, std::string_view key) const {
  for (size_t i = 0; i < flag.variantKeys.size(); i++) {
    if (flag.variantKeys[i] == key) return static_cast<int32_t>(i);
  }
  return -1;
}

bool Snapshot::compileSegment(const Flag& flag, uint32_t node, Segment& segment, std::string& reason) {
  const JsonDocument& d = doc_;
  if (!isObject(d, node)) {
    reason = "must be an object";
    return false;
  }
  uint32_t metadata = d.find(node, "metadata");
  if (!isAbsent(d, metadata) && !isObject(d, metadata)) {
    reason = "metadata must be an object";
    return false;
  }
  uint32_t variant = d.find(node, "variant");
  if (!isAbsent(d, variant)) {
    if (d.type(variant) != JsonType::String) {
      reason = "\"variant\" must be a string";
      return false;
    }
    segment.variant = variantIndex(flag, d.string(variant));
  }
  uint32_t conditions = d.find(node, "conditions");
  if (!isAbsent(d, conditions)) {
    if (!isArray(d, conditions)) {
      reason = "\"conditions\" must be an array of arrays";
      return false;
    }
    segment.hasConditions = true;
    segment.conditions.resize(d.size(conditions));
    for (uint32_t i = 0; i < d.size(conditions); i++) {
      uint32_t group = d.element(conditions, i);
      if (!isArray(d, group)) {
        reason = "\"conditions\" must be an array of arrays";
        return false;
      }
      auto& out = segment.conditions[i];
      out.resize(d.size(group));
      for (uint32_t k = 0; k < d.size(group); k++) {
        if (!compileCondition(d.element(group, k), out[k], reason)) return false;
      }
    }
  }
  uint32_t bucket = d.find(node, "bucket");
  if (!isAbsent(d, bucket)) {
    if (!isObject(d, bucket)) {
      reason = "\"bucket\" must be an object";
      return false;
    }
    segment.hasBucket = true;
    uint32_t selector = d.find(bucket, "selector");
    if (!compileSelector(selector, segment.bucketSelector, reason)) {
      reason = "bucket " + reason;
      return false;
    }
    uint32_t salt = d.find(bucket, "salt");
    if (salt == kNoNode || d.type(salt) != JsonType::String) {
      reason = "bucket \"salt\" must be a string";
      return false;
    }
    segment.saltSlash = std::string(d.string(salt)) + "/";
    uint32_t allocations = d.find(bucket, "allocations");
    if (!isArray(d, allocations)) {
      reason = "bucket \"allocations\" must be an array";
      return false;
    }
    auto readRange = [&](uint32_t owner, double& start, double& end) {
      uint32_t range = d.find(owner, "range");
      if (!isArray(d, range)) {
        reason = "\"range\" must be an array of two numbers";
        return false;
      }
      // The reference compares against range[0] and range[1]; a missing end
      // compares false, like undefined in JavaScript.
      double bounds[2] = {NAN, NAN};
      for (uint32_t i = 0; i < d.size(range) && i < 2; i++) {
        uint32_t v = d.element(range, i);
        if (d.type(v) != JsonType::Number) {
          reason = "\"range\" must hold numbers";
          return false;
        }
        bounds[i] = d.node(v).number;
      }
      start = bounds[0];
      end = bounds[1];
      return true;
    };
    segment.allocations.resize(d.size(allocations));
    for (uint32_t i = 0; i < d.size(allocations); i++) {
      uint32_t a = d.element(allocations, i);
      Allocation& alloc = segment.allocations[i];
      if (!isObject(d, a)) {
        reason = "allocation must be an object";
        return false;
      }
      if (!readRange(a, alloc.start, alloc.end)) {
        reason = "allocation " + reason;
        return false;
      }
      uint32_t dists = d.find(a, "distributions");
      if (!isArray(d, dists)) {
        reason = "allocation \"distributions\" must be an array";
        return false;
      }
      alloc.distributions.resize(d.size(dists));
      for (uint32_t k = 0; k < d.size(dists); k++) {
        uint32_t dist = d.element(dists, k);
        Distribution& out = alloc.distributions[k];
        if (!isObject(d, dist)) {
          reason = "distribution must be an object";
          return false;
        }
        uint32_t v = d.find(dist, "variant");
        if (v == kNoNode || d.type(v) != JsonType::String) {
          reason = "distribution \"variant\" must be a string";
          return false;
        }
        out.variant = variantIndex(flag, d.string(v));
        if (!readRange(dist, out.start, out.end)) {
          reason = "distribution " + reason;
          return false;
        }
      }
    }
  }
  return true;
}

bool Snapshot::compileSelector(uint32_t node, Selector& selector, std::string& reason) {
  const JsonDocument& d = doc_;
  if (!isArray(d, node)) {
    reason = "selector must be an array of strings";
    return false;
  }
  std::vector<std::string> parts;
  bool emptyElement = false;
  for (uint32_t i = 0; i < d.size(node); i++) {
    uint32_t e = d.element(node, i);
    if (d.type(e) != JsonType::String) {
      reason = "selector must be an array of strings";
      return false;
    }
    parts.emplace_back(d.string(e));
    if (parts.back().empty()) emptyElement = true;
  }
  // An empty selector or an empty element selects nothing (the reference
  // stops at the first falsy element).
  if (parts.empty() || emptyElement) {
    selector.root = Selector::Root::Missing;
    return true;
  }
  if (parts[0] == "context") {
    selector.root = Selector::Root::Context;
    selector.path.assign(parts.begin() + 1, parts.end());
  } else if (parts[0] == "result") {
    selector.root = Selector::Root::Result;
    selector.path.assign(parts.begin() + 1, parts.end());
    if (selector.path.empty()) needsAllMerged_ = true;
  } else {
    selector.root = Selector::Root::Target;
    selector.path = std::move(parts);
  }
  return true;
}

bool Snapshot::compileCondition(uint32_t node, Condition& c, std::string& reason) {
  const JsonDocument& d = doc_;
  if (!isObject(d, node)) {
    reason = "condition must be an object";
    return false;
  }
  if (!compileSelector(d.find(node, "selector"), c.selector, reason)) {
    reason = "condition " + reason;
    return false;
  }
  uint32_t op = d.find(node, "op");
  if (op == kNoNode || d.type(op) != JsonType::String) {
    reason = "condition \"op\" must be a string";
    return false;
  }
  c.op = parseOp(d.string(op));
  // The official CohortUtils: a cohort filter is `set contains any` or `set
  // does not contain any` on a selector ending in "cohort_ids".
  if (c.op == Op::SetContainsAny || c.op == Op::SetDoesNotContainAny) {
    uint32_t selector = d.find(node, "selector");
    uint32_t n = d.size(selector);
    if (n > 0) {
      uint32_t last = d.element(selector, n - 1);
      if (d.type(last) == JsonType::String && d.string(last) == "cohort_ids") compilingReadsCohorts_ = true;
    }
  }
  uint32_t values = d.find(node, "values");
  if (!isArray(d, values)) {
    reason = "condition \"values\" must be an array of strings";
    return false;
  }
  c.values.resize(d.size(values));
  for (uint32_t i = 0; i < d.size(values); i++) {
    uint32_t v = d.element(values, i);
    if (d.type(v) != JsonType::String) {
      std::string text;
      appendJsonStringify(d, v, text);
      reason = "condition values must be strings, got " + text + " (op " + quoted(d.string(op)) + ")";
      return false;
    }
    FilterValue& f = c.values[i];
    f.raw = std::string(d.string(v));
    f.isBooleanWord = isBooleanWord(f.raw);
    if (f.raw == "(none)") c.containsNone = true;
    if (f.isBooleanWord) c.containsBooleans = true;
    switch (c.op) {
      case Op::Less:
      case Op::LessOrEqual:
      case Op::Greater:
      case Op::GreaterOrEqual:
        f.number = jsStringToNumber(f.raw);
        break;
      case Op::VersionLess:
      case Op::VersionLessOrEqual:
      case Op::VersionGreater:
      case Op::VersionGreaterOrEqual:
        f.version = SemanticVersion::parse(f.raw);
        if (f.version) c.anyVersion = true;
        break;
      case Op::Contains:
      case Op::DoesNotContain:
        if (isAscii(f.raw)) asciiLower(f.raw, f.lower);
        break;
      case Op::RegexMatch:
      case Op::RegexDoesNotMatch: {
        // One id per distinct pattern: compiled once by the host, remembered once per value.
        auto [it, added] = regexIds_.emplace(f.raw, static_cast<int32_t>(regexPatterns_.size()));
        if (added) {
          regexPatterns_.push_back(f.raw);
          simpleRegexes_.push_back(SimpleRegex::compile(f.raw));
        }
        f.regexId = it->second;
      } break;
      default:
        break;
    }
  }
  // Distinct filter values, for `set is`.
  std::vector<std::string_view> distinct;
  for (const auto& f : c.values) {
    if (std::find(distinct.begin(), distinct.end(), std::string_view(f.raw)) == distinct.end()) {
      distinct.push_back(f.raw);
    }
  }
  c.distinctValues = static_cast<uint32_t>(distinct.size());
  return true;
}

std::vector<std::string> Snapshot::nonAsciiContainsValues() const {
  std::vector<std::string> out;
  for (const auto& cand : candidates_) {
    for (const auto& seg : cand.flag.segments) {
      for (const auto& group : seg.conditions) {
        for (const auto& c : group) {
          if (c.op != Op::Contains && c.op != Op::DoesNotContain) continue;
          for (const auto& f : c.values) {
            if (!isAscii(f.raw)) out.push_back(f.raw);
          }
        }
      }
    }
  }
  return out;
}

void Snapshot::finalize(const std::vector<std::pair<int32_t, std::string>>& invalidRegexes,
                        const std::vector<std::string>& loweredNonAscii) {
  applyLoweredNonAscii(loweredNonAscii);
  rejectInvalidRegexFlags(invalidRegexes);
  std::vector<uint32_t> record;  // candidate index per key, in insertion order
  std::unordered_map<std::string, uint32_t> position;
  keyCandidatesByFlagKey(record, position);
  rejectDependencyCycles(record, position);
  collectRejectedFlags();
  takeFlagsInObjectKeysOrder(record);
  assignResultBases();
  buildOrder();
  buildMergedResults();
  assignSelectorSlots();
  collectReadSlots();
  buildProgram();
}

void Snapshot::applyLoweredNonAscii(const std::vector<std::string>& loweredNonAscii) {
  // Lower-cased non-ASCII contains values, in nonAsciiContainsValues() order.
  size_t lowerIndex = 0;
  for (auto& cand : candidates_) {
    for (auto& seg : cand.flag.segments) {
      for (auto& group : seg.conditions) {
        for (auto& c : group) {
          if (c.op != Op::Contains && c.op != Op::DoesNotContain) continue;
          for (auto& f : c.values) {
            if (isAscii(f.raw)) continue;
            f.lower = lowerIndex < loweredNonAscii.size() ? loweredNonAscii[lowerIndex] : f.raw;
            lowerIndex++;
          }
        }
      }
    }
  }
}

void Snapshot::rejectInvalidRegexFlags(const std::vector<std::pair<int32_t, std::string>>& invalidRegexes) {
  // Flags holding a regex the host's engine cannot compile.
  if (!invalidRegexes.empty()) {
    for (auto& cand : candidates_) {
      if (cand.rejected) continue;
      for (auto& seg : cand.flag.segments) {
        for (auto& group : seg.conditions) {
          for (auto& c : group) {
            for (auto& f : c.values) {
              if (f.regexId < 0 || cand.rejected) continue;
              for (const auto& bad : invalidRegexes) {
                if (bad.first == f.regexId) {
                  cand.rejected = true;
                  cand.reason = "invalid regex " + quoted(f.raw) + ": " + bad.second;
                  break;
                }
              }
            }
          }
        }
      }
    }
  }
}

void Snapshot::keyCandidatesByFlagKey(std::vector<uint32_t>& record,
                                      std::unordered_map<std::string, uint32_t>& position) {
  // The official SDK keys flags by flag.key in payload order: a repeated key
  // keeps its first position and takes the last definition.
  for (uint32_t i = 0; i < candidates_.size(); i++) {
    const Candidate& cand = candidates_[i];
    if (cand.rejected) continue;
    auto it = position.find(cand.flag.key);
    if (it == position.end()) {
      position.emplace(cand.flag.key, static_cast<uint32_t>(record.size()));
      record.push_back(i);
    } else {
      record[it->second] = i;
    }
  }
}

void Snapshot::rejectDependencyCycles(const std::vector<uint32_t>& record,
                                      const std::unordered_map<std::string, uint32_t>& position) {
  // Dependency cycles: every flag on a cycle is left out (Tarjan, iterative).
  const uint32_t n = static_cast<uint32_t>(record.size());
  std::vector<std::vector<uint32_t>> edges(n);
  for (uint32_t i = 0; i < n; i++) {
    for (const auto& dep : candidates_[record[i]].flag.dependencies) {
      auto it = position.find(dep);
      if (it != position.end()) edges[i].push_back(it->second);
    }
  }
  std::vector<int32_t> index(n, -1), low(n, 0);
  std::vector<bool> onStack(n, false);
  std::vector<uint32_t> stack;
  std::vector<std::pair<uint32_t, uint32_t>> work;
  int32_t counter = 0;
  for (uint32_t s = 0; s < n; s++) {
    if (index[s] >= 0) continue;
    work.emplace_back(s, 0);
    while (!work.empty()) {
      auto& [v, next] = work.back();
      if (next == 0 && index[v] < 0) {
        index[v] = low[v] = counter++;
        stack.push_back(v);
        onStack[v] = true;
      }
      if (next < edges[v].size()) {
        uint32_t w = edges[v][next++];
        if (index[w] < 0) {
          work.emplace_back(w, 0);
        } else if (onStack[w]) {
          low[v] = std::min(low[v], index[w]);
        }
        continue;
      }
      if (low[v] == index[v]) {
        std::vector<uint32_t> component;
        uint32_t w;
        do {
          w = stack.back();
          stack.pop_back();
          onStack[w] = false;
          component.push_back(w);
        } while (w != v);
        bool selfLoop = std::find(edges[v].begin(), edges[v].end(), v) != edges[v].end();
        if (component.size() > 1 || selfLoop) {
          std::string names;
          for (auto it = component.rbegin(); it != component.rend(); ++it) {
            if (!names.empty()) names += ", ";
            names += candidates_[record[*it]].flag.key;
          }
          for (uint32_t m : component) {
            Candidate& cand = candidates_[record[m]];
            cand.rejected = true;
            cand.reason = "dependency cycle between flags " + names;
          }
        }
      }
      uint32_t done = v;
      work.pop_back();
      if (!work.empty()) {
        uint32_t parent = work.back().first;
        low[parent] = std::min(low[parent], low[done]);
      }
    }
  }
}

void Snapshot::collectRejectedFlags() {
  for (uint32_t i = 0; i < candidates_.size(); i++) {
    if (candidates_[i].rejected) rejected_.push_back({candidates_[i].flag.key, candidates_[i].reason});
  }
}

void Snapshot::takeFlagsInObjectKeysOrder(const std::vector<uint32_t>& record) {
  // Object.keys order of the record: array-index keys ascending, then the rest.
  std::vector<std::pair<uint32_t, uint32_t>> indexed;
  std::vector<uint32_t> named;
  for (uint32_t c : record) {
    if (candidates_[c].rejected) continue;
    uint32_t idx;
    if (isArrayIndex(candidates_[c].flag.key, &idx))
      indexed.emplace_back(idx, c);
    else
      named.push_back(c);
  }
  std::sort(indexed.begin(), indexed.end());
  for (auto& p : indexed) flags_.push_back(std::move(candidates_[p.second].flag));
  for (uint32_t c : named) flags_.push_back(std::move(candidates_[c].flag));
  candidates_.clear();
  candidates_.shrink_to_fit();
  for (uint32_t i = 0; i < flags_.size(); i++) index_.emplace(flags_[i].key, i);
}

void Snapshot::assignResultBases() {
  uint32_t base = 0;
  for (auto& flag : flags_) {
    flag.resultBase = base;
    base += static_cast<uint32_t>(flag.segments.size() * flag.variantKeys.size());
  }
  resultCount_ = base;
}

void Snapshot::assignSelectorSlots() {
  // One slot per distinct path prefix, so selectors sharing a prefix
  // (context.user.user_properties...) walk it once per evaluation.
  std::unordered_map<std::string, int32_t> slots;
  std::string joined;
  auto assign = [&](Selector& s) {
    if (s.root != Selector::Root::Context || s.path.empty()) return;
    joined.clear();
    int32_t parent = -1;
    for (const auto& part : s.path) {
      joined += part;
      joined.push_back('\0');
      auto it = slots.find(joined);
      if (it == slots.end()) {
        it = slots.emplace(joined, static_cast<int32_t>(slotKeys_.size())).first;
        slotParents_.push_back(parent);
        slotKeys_.push_back(part);
      }
      parent = it->second;
    }
    s.slot = parent;
  };
  for (auto& flag : flags_) {
    for (auto& seg : flag.segments) {
      assign(seg.bucketSelector);
      for (auto& group : seg.conditions) {
        for (auto& c : group) assign(c.selector);
      }
    }
  }
}
void Snapshot::collectReadSlots() {
  const size_t n = flags_.size();
  std::vector<uint32_t> seen(selectorSlots() + 1, 0);
  uint32_t generation = 0;
  auto add = [&](const Selector& s, std::vector<int32_t>& out) {
    if (s.root != Selector::Root::Context) return;
    // seen[0] stands for the whole context, seen[slot + 1] for a slot.
    const size_t mark = s.slot < 0 ? 0 : static_cast<size_t>(s.slot) + 1;
    if (seen[mark] == generation) return;
    seen[mark] = generation;
    out.push_back(s.slot < 0 ? kWholeContext : s.slot);
  };
  auto addFlag = [&](const Flag& flag, std::vector<int32_t>& out) {
    for (const auto& seg : flag.segments) {
      for (const auto& group : seg.conditions) {
        for (const auto& c : group) add(c.selector, out);
      }
      if (seg.hasBucket) add(seg.bucketSelector, out);
    }
  };
  readSlots_.assign(n, {});
  for (size_t f = 0; f < n; f++) {
    generation++;
    for (uint32_t g : closures_[f]) addFlag(flags_[g], readSlots_[f]);
  }
  generation++;
  for (uint32_t f : allOrder_) addFlag(flags_[f], allReadSlots_);
}

int32_t Snapshot::indexOf(std::string_view key) const {
  auto it = index_.find(std::string(key));
  return it == index_.end() ? -1 : static_cast<int32_t>(it->second);
}

void Snapshot::buildOrder() {
  const uint32_t n = static_cast<uint32_t>(flags_.size());
  std::vector<std::vector<uint32_t>> deps(n);
  for (uint32_t i = 0; i < n; i++) {
    for (const auto& dep : flags_[i].dependencies) {
      int32_t d = indexOf(dep);
      if (d >= 0) deps[i].push_back(static_cast<uint32_t>(d));
    }
  }
  // Post-order DFS like the reference topologicalSort; no cycles remain.
  std::vector<uint32_t> stamp(n, 0);
  uint32_t generation = 0;
  std::vector<std::pair<uint32_t, uint32_t>> work;
  auto traverse = [&](uint32_t start, std::vector<uint32_t>& out) {
    if (stamp[start] == generation) return;
    work.emplace_back(start, 0);
    stamp[start] = generation;
    while (!work.empty()) {
      auto& [v, next] = work.back();
      if (next < deps[v].size()) {
        uint32_t w = deps[v][next++];
        if (stamp[w] != generation) {
          stamp[w] = generation;
          work.emplace_back(w, 0);
        }
        continue;
      }
      out.push_back(v);
      work.pop_back();
    }
  };
  generation = 1;
  for (uint32_t i = 0; i < n; i++) traverse(i, allOrder_);
  closures_.resize(n);
  for (uint32_t i = 0; i < n; i++) {
    generation++;
    traverse(i, closures_[i]);
  }
}

void Snapshot::buildMergedResults() {
  // Resolve result selectors to flag indices; remember which flags' results
  // are read so their merged objects exist.
  std::vector<bool> needed(flags_.size(), needsAllMerged_);
  auto resolve = [&](Selector& s) {
    if (s.root != Selector::Root::Result || s.path.empty()) return;
    s.resultFlag = indexOf(s.path[0]);
    if (s.resultFlag >= 0) {
      needed[static_cast<size_t>(s.resultFlag)] = true;
      const Flag& target = flags_[static_cast<size_t>(s.resultFlag)];
      s.resolvedInResult.assign(target.segments.size() * target.variantKeys.size(), kUnresolved);
    }
  };
  for (auto& flag : flags_) {
    for (auto& seg : flag.segments) {
      resolve(seg.bucketSelector);
      for (auto& group : seg.conditions) {
        for (auto& c : group) {
          resolve(c.selector);
          // Not for the operators that may call into the host: a regex it gave up on, a lower-casing that
          // failed (the call fell back to ASCII), would be kept as the answer for good.
          const bool host = c.op == Op::RegexMatch || c.op == Op::RegexDoesNotMatch || c.op == Op::Contains ||
                            c.op == Op::DoesNotContain;
          if (c.selector.resultFlag >= 0 && !host) {
            c.answerInResult.assign(c.selector.resolvedInResult.size() + 1, kUnknownAnswer);
          }
        }
      }
    }
  }
  JsonDocument& d = doc_;
  std::vector<uint32_t> pairs;
  // {...a, ...b}: own keys of b overwrite in place or append, in b's key order.
  auto assign = [&](std::vector<uint32_t>& into, uint32_t object) {
    if (object == kNoNode || d.type(object) != JsonType::Object) return;
    std::vector<std::pair<uint32_t, uint32_t>> indexed;
    std::vector<uint32_t> named;
    for (uint32_t i = 0; i < d.size(object); i++) {
      uint32_t idx;
      if (isArrayIndex(d.string(d.memberKey(object, i)), &idx))
        indexed.emplace_back(idx, i);
      else
        named.push_back(i);
    }
    std::sort(indexed.begin(), indexed.end());
    auto put = [&](uint32_t i) {
      uint32_t key = d.memberKey(object, i);
      for (size_t k = 0; k < into.size(); k += 2) {
        if (d.string(into[k]) == d.string(key)) {
          into[k + 1] = d.memberValue(object, i);
          return;
        }
      }
      into.push_back(key);
      into.push_back(d.memberValue(object, i));
    };
    for (auto& p : indexed) put(p.second);
    for (uint32_t i : named) put(i);
  };
  uint32_t metadataKey = kNoNode;
  for (size_t f = 0; f < flags_.size(); f++) {
    if (!needed[f]) continue;
    Flag& flag = flags_[f];
    if (metadataKey == kNoNode) metadataKey = d.addString("metadata");
    uint32_t segmentsNode = d.find(flag.node, "segments");
    uint32_t flagMeta = d.find(flag.node, "metadata");
    const size_t nv = flag.variantKeys.size();
    flag.mergedResults.assign(flag.segments.size() * nv, kNoNode);
    for (size_t s = 0; s < flag.segments.size(); s++) {
      uint32_t segMeta = d.find(d.element(segmentsNode, static_cast<uint32_t>(s)), "metadata");
      for (size_t v = 0; v < nv; v++) {
        uint32_t variant = flag.variantNodes[v];
        std::vector<uint32_t> meta;
        assign(meta, flagMeta);
        assign(meta, segMeta);
        assign(meta, d.find(variant, "metadata"));
        uint32_t metaNode = d.addObject(meta.data(), static_cast<uint32_t>(meta.size() / 2));
        std::vector<uint32_t> result;
        assign(result, variant);
        bool replaced = false;
        for (size_t k = 0; k < result.size(); k += 2) {
          if (d.string(result[k]) == "metadata") {
            result[k + 1] = metaNode;
            replaced = true;
          }
        }
        if (!replaced) {
          result.push_back(metadataKey);
          result.push_back(metaNode);
        }
        flag.mergedResults[s * nv + v] = d.addObject(result.data(), static_cast<uint32_t>(result.size() / 2));
      }
    }
  }
}

}  // namespace experiment
