#include "evaluator.h"

#include <algorithm>

#include "js_string.h"
#include "murmur3.h"
#include "script_value.h"

namespace experiment {

namespace {

constexpr uint32_t kMaxUserDepth = 512;

// Own property names of Object.prototype and Array.prototype (Node 20). The
// reference engine selects through the prototype chain, so a missing key with
// one of these names yields a function, whose String() is its source text.
constexpr std::string_view kObjectMethods[] = {
    "__defineGetter__", "__defineSetter__",     "hasOwnProperty", "__lookupGetter__", "__lookupSetter__",
    "isPrototypeOf",    "propertyIsEnumerable", "toString",       "valueOf",          "toLocaleString",
};
constexpr std::string_view kArrayMethods[] = {
    "at",        "concat",        "copyWithin",     "fill",     "find",       "findIndex",
    "findLast",  "findLastIndex", "lastIndexOf",    "pop",      "push",       "reverse",
    "shift",     "unshift",       "slice",          "sort",     "splice",     "includes",
    "indexOf",   "join",          "keys",           "entries",  "values",     "forEach",
    "filter",    "flat",          "flatMap",        "map",      "every",      "some",
    "reduce",    "reduceRight",   "toLocaleString", "toString", "toReversed", "toSorted",
    "toSpliced", "with",
};

template <size_t N>
bool contains(const std::string_view (&names)[N], std::string_view key) {
  for (auto n : names) {
    if (n == key) return true;
  }
  return false;
}

bool isTruthy(const JsonDocument& d, uint32_t id) {
  const JsonNode& n = d.node(id);
  switch (n.type) {
    case JsonType::Null:
    case JsonType::False:
      return false;
    case JsonType::Number:
      return n.number == n.number && n.number != 0;
    case JsonType::String:
      return n.count > 0;
    case JsonType::Script:
      return n.scriptTruthy;
    default:
      return true;
  }
}

// Object.keys(v).length > 0, for the values a user JSON can hold.
bool hasKeys(const JsonDocument& d, uint32_t id) {
  const JsonNode& n = d.node(id);
  switch (n.type) {
    case JsonType::Object:
    case JsonType::Array:
    case JsonType::String:
      return n.count > 0;
    case JsonType::Raw:
      return true;
    default:
      return false;
  }
}

bool compareNumbers(Op op, double a, double b) {
  switch (op) {
    case Op::Less:
      return a < b;
    case Op::LessOrEqual:
      return a <= b;
    case Op::Greater:
      return a > b;
    case Op::GreaterOrEqual:
      return a >= b;
    default:
      return false;
  }
}

bool compareOrdered(Op op, int cmp) {
  switch (op) {
    case Op::VersionLess:
      return cmp < 0;
    case Op::VersionLessOrEqual:
      return cmp <= 0;
    case Op::VersionGreater:
      return cmp > 0;
    case Op::VersionGreaterOrEqual:
      return cmp >= 0;
    default:
      return false;
  }
}

bool matchNull(const Condition& c) {
  switch (c.op) {
    case Op::Is:
    case Op::Contains:
    case Op::Less:
    case Op::LessOrEqual:
    case Op::Greater:
    case Op::GreaterOrEqual:
    case Op::VersionLess:
    case Op::VersionLessOrEqual:
    case Op::VersionGreater:
    case Op::VersionGreaterOrEqual:
    case Op::SetIs:
    case Op::SetContains:
    case Op::SetContainsAny:
      return c.containsNone;
    case Op::IsNot:
    case Op::DoesNotContain:
    case Op::SetDoesNotContain:
    case Op::SetDoesNotContainAny:
      return !c.containsNone;
    default:
      return false;
  }
}

}  // namespace

Evaluator::Evaluator()
    // The user JSON comes from V8 (valid UTF-8; lone surrogates arrive escaped).
    : userParser_(kMaxUserDepth, JsonParser::DepthPolicy::KeepRaw, true),
      listParser_(kMaxUserDepth, JsonParser::DepthPolicy::KeepRaw, true) {}

void Evaluator::setUser(std::string_view userJson) {
  user_.clear();
  uint32_t root = kNoNode;
  const bool scriptValues = !userJson.empty() && userJson[0] == kScriptUserMarker;
  if (scriptValues) userJson.remove_prefix(1);
  if (!userJson.empty()) root = userParser_.parseBorrowing(userJson, user_);
  if (scriptValues) decodeScriptValues(user_, root);
  buildContext(root);
}

void Evaluator::buildContext(uint32_t user) {
  JsonDocument& d = user_;
  std::vector<uint32_t> context;
  if (user != kNoNode && d.type(user) == JsonType::Object) {
    uint32_t groups = kNoNode, groupProperties = kNoNode, groupCohorts = kNoNode;
    pairs_.clear();
    for (uint32_t i = 0; i < d.size(user); i++) {
      std::string_view key = d.string(d.memberKey(user, i));
      uint32_t value = d.memberValue(user, i);
      if (key == "groups")
        groups = value;
      else if (key == "group_properties")
        groupProperties = value;
      else if (key == "group_cohort_ids")
        groupCohorts = value;
      else {
        pairs_.push_back(d.memberKey(user, i));
        pairs_.push_back(value);
      }
    }
    if (!pairs_.empty()) {
      uint32_t copy = d.addObject(pairs_.data(), static_cast<uint32_t>(pairs_.size() / 2));
      context.push_back(d.addString("user"));
      context.push_back(copy);
    }
    if (groups != kNoNode && d.type(groups) == JsonType::Object) {
      std::vector<uint32_t> groupPairs;
      std::string nameKey;
      auto nested = [&](uint32_t root, uint32_t typeKey, std::string_view name) -> uint32_t {
        if (root == kNoNode || d.type(root) != JsonType::Object) return kNoNode;
        uint32_t byType = d.find(root, d.string(typeKey));
        if (byType == kNoNode || d.type(byType) != JsonType::Object) return kNoNode;
        return d.find(byType, name);
      };
      for (uint32_t i = 0; i < d.size(groups); i++) {
        uint32_t typeKey = d.memberKey(groups, i);
        uint32_t names = d.memberValue(groups, i);
        if (d.type(names) != JsonType::Array || d.size(names) == 0) continue;
        uint32_t name = d.element(names, 0);
        if (!isTruthy(d, name)) continue;
        // The group name indexes group_properties as String(name).
        nameKey.clear();
        std::string_view nameView;
        Value nameValue;
        nameValue.kind = Value::Kind::Node;
        nameValue.doc = &d;
        nameValue.id = name;
        if (!coerceString(nameValue, nameKey, nameView)) continue;
        if (d.type(name) == JsonType::Object) nameView = "[object Object]";
        std::string nameCopy(nameView);
        std::vector<uint32_t> group;
        group.push_back(d.addString("group_name"));
        group.push_back(name);
        uint32_t props = nested(groupProperties, typeKey, nameCopy);
        if (props != kNoNode && hasKeys(d, props)) {
          group.push_back(d.addString("group_properties"));
          group.push_back(props);
        }
        uint32_t cohorts = nested(groupCohorts, typeKey, nameCopy);
        if (cohorts != kNoNode && hasKeys(d, cohorts)) {
          group.push_back(d.addString("cohort_ids"));
          group.push_back(cohorts);
        }
        // A repeated group type keeps the last definition.
        bool replaced = false;
        for (size_t k = 0; k < groupPairs.size(); k += 2) {
          if (d.string(groupPairs[k]) == d.string(typeKey)) {
            groupPairs[k + 1] = d.addObject(group.data(), static_cast<uint32_t>(group.size() / 2));
            replaced = true;
          }
        }
        if (!replaced) {
          groupPairs.push_back(typeKey);
          groupPairs.push_back(d.addObject(group.data(), static_cast<uint32_t>(group.size() / 2)));
        }
      }
      if (!groupPairs.empty()) {
        uint32_t groupsNode = d.addObject(groupPairs.data(), static_cast<uint32_t>(groupPairs.size() / 2));
        context.push_back(d.addString("groups"));
        context.push_back(groupsNode);
      }
    }
  }
  context_ = d.addObject(context.data(), static_cast<uint32_t>(context.size() / 2));
}

void Evaluator::beginCall(const Snapshot& snapshot, ScriptHost& host) {
  // Per-call set-up shared by evaluate() and explain(): scratch sized for the
  // snapshot, a new call number (stamps from older calls go stale).
  snapshot_ = &snapshot;
  host_ = &host;
  const size_t n = snapshot.flags().size();
  if (stamp_.size() < n) {
    stamp_.resize(n, 0);
    resultStamp_.resize(n, 0);
    resultId_.resize(n, -1);
  }
  if (++call_ == 0) {
    std::fill(stamp_.begin(), stamp_.end(), 0);
    std::fill(resultStamp_.begin(), resultStamp_.end(), 0);
    std::fill(slotStamp_.begin(), slotStamp_.end(), 0);
    for (auto& sc : slotScalar_) sc.stamp = 0;
    call_ = 1;
  }
  resultOrder_.clear();
  if (slotStamp_.size() < snapshot.selectorSlots()) {
    slotStamp_.resize(snapshot.selectorSlots(), 0);
    slotValue_.resize(snapshot.selectorSlots());
    slotScalar_.resize(snapshot.selectorSlots());
  }
}

uint32_t Evaluator::evaluate(const Snapshot& snapshot, ScriptHost& host, const int32_t* keys, uint32_t keyCount,
                             EvaluationOutput out) {
  beginCall(snapshot, host);
  uint32_t written = 0;
  auto visit = [&](uint32_t f) {
    int32_t rid = evaluateFlag(f);
    if (written < out.capacity) {
      out.data[2 * written] = static_cast<int32_t>(f);
      out.data[2 * written + 1] = rid;
      written++;
    }
  };
  forEachRequested(snapshot, keys, keyCount, visit);
  return written;
}

int32_t Evaluator::evaluateFlag(uint32_t flagIndex) {
  const Flag& flag = snapshot_->flags()[flagIndex];
  const size_t nv = flag.variantKeys.size();
  for (size_t s = 0; s < flag.segments.size(); s++) {
    const Segment& seg = flag.segments[s];
    bool matched = true;
    if (seg.hasConditions) {
      matched = false;
      for (const auto& group : seg.conditions) {
        bool all = true;
        for (const auto& c : group) {
          if (!matchCondition(c)) {
            all = false;
            break;
          }
        }
        if (all) {
          matched = true;
          break;
        }
      }
    }
    if (!matched) continue;
    int32_t variant = bucket(seg);
    if (variant < 0) continue;  // no variant, or a key the flag lacks: next segment
    int32_t rid = static_cast<int32_t>(flag.resultBase + s * nv + static_cast<size_t>(variant));
    resultStamp_[flagIndex] = call_;
    resultId_[flagIndex] = rid;
    resultOrder_.push_back(flagIndex);
    return rid;
  }
  return -1;
}

int32_t Evaluator::bucket(const Segment& seg) {
  if (!seg.hasBucket) return seg.variant;
  std::string_view value;
  if (!coerceString(select(seg.bucketSelector), propBuffer_, value) || value.empty()) return seg.variant;
  hashBuffer_.assign(seg.saltSlash);
  hashBuffer_.append(value);
  const uint32_t hash = murmur3_x86_32(hashBuffer_.data(), hashBuffer_.size(), 0);
  const double allocationValue = hash % 100;
  const double distributionValue = hash / 100;
  for (const auto& alloc : seg.allocations) {
    if (allocationValue >= alloc.start && allocationValue < alloc.end) {
      for (const auto& dist : alloc.distributions) {
        if (distributionValue >= dist.start && distributionValue < dist.end) return dist.variant;
      }
    }
  }
  return seg.variant;
}

Evaluator::Value Evaluator::select(const Selector& selector) {
  Value cur;
  size_t from = 0;
  switch (selector.root) {
    case Selector::Root::Missing:
      return cur;
    case Selector::Root::Context:
      if (selector.slot >= 0) {
        cur = resolveSlot(static_cast<uint32_t>(selector.slot));
        if (cur.kind == Value::Kind::Node && cur.doc->type(cur.id) == JsonType::Null) cur = Value{};
        return cur;
      }
      cur.kind = Value::Kind::Node;
      cur.doc = &user_;
      cur.id = context_;
      break;
    case Selector::Root::Result: {
      if (selector.path.empty()) {
        cur.kind = Value::Kind::Results;
        return cur;
      }
      int32_t f = selector.resultFlag;
      if (f >= 0 && resultStamp_[static_cast<size_t>(f)] == call_) {
        const Flag& flag = snapshot_->flags()[static_cast<size_t>(f)];
        const size_t local = static_cast<size_t>(resultId_[static_cast<size_t>(f)]) - flag.resultBase;
        // Results never change, so what the rest of the path selects in one is
        // resolved once; values that are not nodes (functions of the
        // prototype chain) are simply recomputed each time.
        uint32_t& memo = selector.resolvedInResult[local];
        if (memo != kUnresolved) {
          if (memo == kNoNode) return cur;
          cur.kind = Value::Kind::Node;
          cur.doc = &snapshot_->document();
          cur.id = memo;
          return cur;
        }
        cur.kind = Value::Kind::Node;
        cur.doc = &snapshot_->document();
        cur.id = flag.mergedResults[local];
        for (size_t i = 1; i < selector.path.size() && cur.kind != Value::Kind::Missing; i++) {
          cur = lookup(cur, selector.path[i]);
        }
        if (cur.kind == Value::Kind::Node && cur.doc->type(cur.id) == JsonType::Null) cur = Value{};
        if (cur.kind == Value::Kind::Missing)
          memo = kNoNode;
        else if (cur.kind == Value::Kind::Node && cur.doc == &snapshot_->document())
          memo = cur.id;
        return cur;
      } else {
        // Not a result in this call: the results object is a plain object.
        Value results;
        results.kind = Value::Kind::Target;  // plain-object prototype lookups only
        cur = lookup(results, selector.path[0]);
        if (selector.path[0] == "context" || selector.path[0] == "result") cur = Value{};
      }
      from = 1;
      break;
    }
    case Selector::Root::Target:
      cur.kind = Value::Kind::Target;
      break;
  }
  for (size_t i = from; i < selector.path.size() && cur.kind != Value::Kind::Missing; i++) {
    cur = lookup(cur, selector.path[i]);
  }
  if (cur.kind == Value::Kind::Node && cur.doc->type(cur.id) == JsonType::Null) cur = Value{};
  return cur;
}

const Evaluator::Value& Evaluator::resolveSlot(uint32_t slot) {
  // Context values depend only on the user: each path prefix is resolved once
  // per evaluate call (stamped with the call number).
  if (slotStamp_[slot] == call_) return slotValue_[slot];
  const int32_t parent = snapshot_->slotParent(slot);
  Value base;
  if (parent < 0) {
    base.kind = Value::Kind::Node;
    base.doc = &user_;
    base.id = context_;
  } else {
    base = resolveSlot(static_cast<uint32_t>(parent));
  }
  slotValue_[slot] = base.kind == Value::Kind::Missing ? Value{} : lookup(base, snapshot_->slotKey(slot));
  slotStamp_[slot] = call_;
  return slotValue_[slot];
}

Evaluator::Value Evaluator::lookup(const Value& from, std::string_view key) {
  Value out;
  auto function = [&](std::string_view name) {
    out.kind = Value::Kind::Function;
    out.name = name;
    return out;
  };
  auto objectPrototype = [&]() {
    if (key == "constructor") return function("Object");
    if (key == "__proto__") {
      out.kind = Value::Kind::ObjectPrototype;
      return out;
    }
    if (contains(kObjectMethods, key)) return function(key);
    return out;
  };
  auto arrayPrototype = [&]() {
    if (key == "constructor") return function("Array");
    if (key == "__proto__") {
      out.kind = Value::Kind::ArrayPrototype;
      return out;
    }
    if (contains(kArrayMethods, key) || contains(kObjectMethods, key)) return function(key);
    return out;
  };
  switch (from.kind) {
    case Value::Kind::Node: {
      const JsonDocument& d = *from.doc;
      switch (d.type(from.id)) {
        case JsonType::Object: {
          uint32_t v = d.find(from.id, key);
          if (v != kNoNode) {
            out.kind = Value::Kind::Node;
            out.doc = from.doc;
            out.id = v;
            return out;
          }
          return objectPrototype();
        }
        case JsonType::Array: {
          uint32_t index;
          if (isArrayIndex(key, &index)) {
            if (index < d.size(from.id)) {
              out.kind = Value::Kind::Node;
              out.doc = from.doc;
              out.id = d.element(from.id, index);
            }
            return out;
          }
          if (key == "length") {
            out.kind = Value::Kind::Number;
            out.number = d.size(from.id);
            return out;
          }
          return arrayPrototype();
        }
        default:
          return out;  // null and primitives: the reference stops here
      }
    }
    case Value::Kind::ObjectPrototype:
      if (key == "__proto__") return out;
      return objectPrototype();
    case Value::Kind::ArrayPrototype:
      if (key == "length") {
        out.kind = Value::Kind::Number;
        out.number = 0;
        return out;
      }
      if (key == "__proto__") {
        out.kind = Value::Kind::ObjectPrototype;
        return out;
      }
      return arrayPrototype();
    case Value::Kind::Target:
      if (key == "context") {
        out.kind = Value::Kind::Node;
        out.doc = &user_;
        out.id = context_;
        return out;
      }
      if (key == "result") {
        out.kind = Value::Kind::Results;
        return out;
      }
      return objectPrototype();
    case Value::Kind::Results: {
      int32_t f = snapshot_->indexOf(key);
      if (f >= 0 && resultStamp_[static_cast<size_t>(f)] == call_) {
        const Flag& flag = snapshot_->flags()[static_cast<size_t>(f)];
        if (!flag.mergedResults.empty()) {
          out.kind = Value::Kind::Node;
          out.doc = &snapshot_->document();
          out.id = flag.mergedResults[static_cast<size_t>(resultId_[static_cast<size_t>(f)]) - flag.resultBase];
          return out;
        }
      }
      return objectPrototype();
    }
    default:
      return out;
  }
}

bool Evaluator::coerceString(const Value& v, std::string& buffer, std::string_view& out) {
  switch (v.kind) {
    case Value::Kind::Missing:
      return false;
    case Value::Kind::Node: {
      const JsonDocument& d = *v.doc;
      switch (d.type(v.id)) {
        case JsonType::Null:
          return false;
        case JsonType::True:
          out = "true";
          return true;
        case JsonType::False:
          out = "false";
          return true;
        case JsonType::String:
        case JsonType::Script:
        case JsonType::Raw:
          out = d.string(v.id);
          return true;
        case JsonType::Number:
          buffer.clear();
          appendJsNumber(d.node(v.id).number, buffer);
          out = buffer;
          return true;
        default:
          buffer.clear();
          appendJsonStringify(d, v.id, buffer);
          out = buffer;
          return true;
      }
    }
    case Value::Kind::Function:
      buffer.assign("function ");
      buffer.append(v.name);
      buffer.append("() { [native code] }");
      out = buffer;
      return true;
    case Value::Kind::ObjectPrototype:
      out = "{}";
      return true;
    case Value::Kind::ArrayPrototype:
      out = "[]";
      return true;
    case Value::Kind::Number:
      buffer.clear();
      appendJsNumber(v.number, buffer);
      out = buffer;
      return true;
    case Value::Kind::Results: {
      // JSON.stringify of the results object so far.
      buffer.assign("{");
      std::vector<std::pair<uint32_t, uint32_t>> indexed;
      std::vector<uint32_t> named;
      for (uint32_t f : resultOrder_) {
        uint32_t idx;
        if (isArrayIndex(snapshot_->flags()[f].key, &idx))
          indexed.emplace_back(idx, f);
        else
          named.push_back(f);
      }
      std::sort(indexed.begin(), indexed.end());
      std::vector<uint32_t> order;
      for (auto& p : indexed) order.push_back(p.second);
      order.insert(order.end(), named.begin(), named.end());
      bool first = true;
      for (uint32_t f : order) {
        const Flag& flag = snapshot_->flags()[f];
        if (flag.mergedResults.empty()) continue;
        if (!first) buffer.push_back(',');
        first = false;
        appendJsonQuoted(flag.key, buffer);
        buffer.push_back(':');
        appendJsonStringify(snapshot_->document(),
                            flag.mergedResults[static_cast<size_t>(resultId_[f]) - flag.resultBase], buffer);
      }
      buffer.push_back('}');
      out = buffer;
      return true;
    }
    case Value::Kind::Target:
      return false;
  }
  return false;
}

bool Evaluator::coerceList(const Value& v) {
  list_.clear();
  listSpans_.clear();
  listArena_.clear();
  const JsonDocument* doc = nullptr;
  uint32_t array = kNoNode;
  if (v.kind == Value::Kind::ArrayPrototype) return true;
  if (v.kind != Value::Kind::Node) return false;
  const JsonType type = v.doc->type(v.id);
  if (type == JsonType::Array) {
    doc = v.doc;
    array = v.id;
  } else if (type == JsonType::String || (type == JsonType::Raw && v.doc->node(v.id).rawIsArray)) {
    // String(value) starting with '[' is tried as a JSON array.
    std::string_view text = v.doc->string(v.id);
    if (text.empty() || text[0] != '[') return false;
    listDoc_.clear();
    uint32_t root = listParser_.parseBorrowing(text, listDoc_);
    if (root == kNoNode || listDoc_.type(root) != JsonType::Array) return false;
    doc = &listDoc_;
    array = root;
  } else {
    return false;
  }
  // Element strings either point into the document or into listArena_; the
  // arena may grow while filling, so its views are made at the end.
  constexpr uint32_t kDirect = 0xffffffffu;
  Value element;
  element.kind = Value::Kind::Node;
  element.doc = doc;
  for (uint32_t i = 0; i < doc->size(array); i++) {
    element.id = doc->element(array, i);
    std::string_view s;
    if (!coerceString(element, elementBuffer_, s) || s.empty()) continue;  // nulls and "" are dropped
    if (s.data() == elementBuffer_.data()) {
      listSpans_.emplace_back(static_cast<uint32_t>(listArena_.size()), static_cast<uint32_t>(s.size()));
      listArena_.append(s);
      list_.emplace_back();
    } else {
      listSpans_.emplace_back(kDirect, 0);
      list_.push_back(s);
    }
  }
  for (size_t i = 0; i < list_.size(); i++) {
    if (listSpans_[i].first != kDirect) {
      list_[i] = std::string_view(listArena_.data() + listSpans_[i].first, listSpans_[i].second);
    }
  }
  return true;
}

bool Evaluator::matchCondition(const Condition& c) {
  if (c.selector.slot >= 0) {
    const size_t slot = static_cast<size_t>(c.selector.slot);
    const Value& v = resolveSlot(static_cast<uint32_t>(slot));
    if (v.kind == Value::Kind::Missing || (v.kind == Value::Kind::Node && v.doc->type(v.id) == JsonType::Null)) {
      return matchNull(c);
    }
    ScalarCache& sc = slotScalar_[slot];
    if (sc.stamp != call_) {
      sc.stamp = call_;
      sc.numberReady = sc.versionReady = sc.lowerReady = false;
      sc.regexMemo.clear();
      sc.isList = coerceList(v);
      sc.hasString = !sc.isList && coerceString(v, sc.buffer, sc.text);
      if (sc.isList) {
        // Keep the elements for the other conditions on this selector: the
        // scratch they point into is reused by the next list.
        sc.listArena.clear();
        for (std::string_view e : list_) sc.listArena.append(e);
        sc.list.clear();
        size_t offset = 0;
        for (std::string_view e : list_) {
          sc.list.emplace_back(sc.listArena.data() + offset, e.size());
          offset += e.size();
        }
      }
    }
    items_ = &sc.list;
    if (isSetOp(c.op)) return sc.isList && matchSet(c);
    if (sc.isList) {
      for (std::string_view element : sc.list) {
        if (matchString(element, c)) return true;
      }
      return false;
    }
    return sc.hasString && matchString(sc.text, c, &sc);
  }
  const Value v = select(c.selector);
  if (v.kind == Value::Kind::Missing) return matchNull(c);
  const bool isList = coerceList(v);
  items_ = &list_;
  if (isSetOp(c.op)) return isList && matchSet(c);
  if (isList) {
    for (std::string_view element : list_) {
      if (matchString(element, c)) return true;
    }
    return false;
  }
  std::string_view s;
  if (!coerceString(v, propBuffer_, s)) return false;
  return matchString(s, c);
}

bool Evaluator::matchString(std::string_view s, const Condition& c, ScalarCache* cache) {
  switch (c.op) {
    case Op::Is:
    case Op::IsNot: {
      bool is = false;
      if (c.containsBooleans && isBooleanWord(s)) {
        for (const auto& f : c.values) {
          if (f.isBooleanWord && equalsIgnoreAsciiCase(f.raw, s)) {
            is = true;
            break;
          }
        }
      } else {
        for (const auto& f : c.values) {
          if (f.raw == s) {
            is = true;
            break;
          }
        }
      }
      return c.op == Op::Is ? is : !is;
    }
    case Op::Contains:
    case Op::DoesNotContain: {
      // Lower-cased once per value and call when the value has a slot (non-ASCII text is a call into V8).
      std::string* lower = &lowerBuffer_;
      if (cache != nullptr) lower = &cache->lower;
      if (cache == nullptr || !cache->lowerReady) {
        if (isAscii(s))
          asciiLower(s, *lower);
        else
          host_->toLowerCase(s, *lower);
        if (cache != nullptr) cache->lowerReady = true;
      }
      bool found = false;
      for (const auto& f : c.values) {
        if (lower->find(f.lower) != std::string::npos) {
          found = true;
          break;
        }
      }
      return c.op == Op::Contains ? found : !found;
    }
    case Op::Less:
    case Op::LessOrEqual:
    case Op::Greater:
    case Op::GreaterOrEqual: {
      // Number() never fails in the reference: unparsable sides are NaN.
      double p;
      if (cache) {
        if (!cache->numberReady) {
          cache->number = jsStringToNumber(s);
          cache->numberReady = true;
        }
        p = cache->number;
      } else {
        p = jsStringToNumber(s);
      }
      for (const auto& f : c.values) {
        if (compareNumbers(c.op, p, f.number)) return true;
      }
      return false;
    }
    case Op::VersionLess:
    case Op::VersionLessOrEqual:
    case Op::VersionGreater:
    case Op::VersionGreaterOrEqual: {
      std::optional<SemanticVersion> parsed;
      const std::optional<SemanticVersion>* versionPtr = &parsed;
      if (cache) {
        if (!cache->versionReady) {
          cache->version = SemanticVersion::parse(s);
          cache->versionReady = true;
        }
        versionPtr = &cache->version;
      } else {
        parsed = SemanticVersion::parse(s);
      }
      const auto& version = *versionPtr;
      if (!version || !c.anyVersion) {
        for (const auto& f : c.values) {
          if (compareOrdered(c.op, compareUtf16(s, f.raw))) return true;
        }
        return false;
      }
      for (const auto& f : c.values) {
        if (f.version && compareOrdered(c.op, version->compare(*f.version))) return true;
      }
      return false;
    }
    case Op::RegexMatch:
    case Op::RegexDoesNotMatch: {
      bool gaveUp = false;
      for (const auto& f : c.values) {
        RegexResult r = regexTest(f.regexId, s, cache);
        if (r == RegexResult::Match) return c.op == Op::RegexMatch;
        if (r == RegexResult::GaveUp) gaveUp = true;
      }
      // No value matched; one that ran out of time might have: unknown, so false either way.
      return !gaveUp && c.op == Op::RegexDoesNotMatch;
    }
    default:
      return false;
  }
}

RegexResult Evaluator::regexTest(int32_t regexId, std::string_view s, ScalarCache* cache) {
  if (cache == nullptr) return host_->regexTest(regexId, s);
  for (const auto& [id, result] : cache->regexMemo) {
    if (id == regexId) return result;
  }
  RegexResult r = host_->regexTest(regexId, s);
  cache->regexMemo.emplace_back(regexId, r);
  return r;
}

bool Evaluator::listHasBooleans() {
  for (std::string_view p : (*items_)) {
    if (isBooleanWord(p)) return true;
  }
  return false;
}

bool Evaluator::matchesIsList(std::string_view value) {
  // The reference's matchesIs(filterValue, propValues), arguments swapped.
  if (isBooleanWord(value) && listHasBooleans()) {
    for (std::string_view p : (*items_)) {
      if (equalsIgnoreAsciiCase(p, value)) return true;
    }
    return false;
  }
  for (std::string_view p : (*items_)) {
    if (p == value) return true;
  }
  return false;
}

bool Evaluator::matchSet(const Condition& c) {
  switch (c.op) {
    case Op::SetIs:
    case Op::SetIsNot: {
      uint32_t distinct = 0;
      if ((*items_).size() <= 32) {
        for (size_t i = 0; i < (*items_).size(); i++) {
          auto end = (*items_).begin() + static_cast<std::ptrdiff_t>(i);
          if (std::find((*items_).begin(), end, (*items_)[i]) == end) distinct++;
        }
      } else {
        sorted_.assign((*items_).begin(), (*items_).end());
        std::sort(sorted_.begin(), sorted_.end());
        distinct = static_cast<uint32_t>(std::unique(sorted_.begin(), sorted_.end()) - sorted_.begin());
      }
      bool equal = distinct == c.distinctValues;
      for (size_t i = 0; equal && i < c.values.size(); i++) {
        equal = std::find((*items_).begin(), (*items_).end(), std::string_view(c.values[i].raw)) != (*items_).end();
      }
      return c.op == Op::SetIs ? equal : !equal;
    }
    case Op::SetContains:
    case Op::SetDoesNotContain: {
      bool all = (*items_).size() >= c.values.size();
      for (size_t i = 0; all && i < c.values.size(); i++) all = matchesIsList(c.values[i].raw);
      return c.op == Op::SetContains ? all : !all;
    }
    case Op::SetContainsAny:
    case Op::SetDoesNotContainAny: {
      bool any = false;
      for (size_t i = 0; !any && i < c.values.size(); i++) any = matchesIsList(c.values[i].raw);
      return c.op == Op::SetContainsAny ? any : !any;
    }
    default:
      return false;
  }
}

}  // namespace experiment
