// Evaluator: the user context (setUser, buildContext) and selecting values
// from it: select(), the per-call slot cache (resolveSlot), and property
// lookup with the reference engine's prototype-chain behaviour (lookup).
#include "evaluator.h"
#include "js_string.h"
#include "script_value.h"

namespace experiment {

namespace {

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

}  // namespace

void Evaluator::setUser(std::string_view userJson) {
  presetSlots_ = nullptr;
  user_.clear();
  uint32_t root = kNoNode;
  const bool scriptValues = !userJson.empty() && userJson[0] == kScriptUserMarker;
  if (scriptValues) userJson.remove_prefix(1);
  if (!userJson.empty()) root = userParser_.parseBorrowing(userJson, user_);
  if (scriptValues) decodeScriptValues(user_, root);
  buildContext(root);
}

void Evaluator::setSlotValues(std::string_view valuesJson, const std::vector<int32_t>& slots) {
  user_.clear();
  const bool scriptValues = !valuesJson.empty() && valuesJson[0] == kScriptUserMarker;
  if (scriptValues) valuesJson.remove_prefix(1);
  uint32_t root = valuesJson.empty() ? kNoNode : userParser_.parseBorrowing(valuesJson, user_);
  if (root != kNoNode && user_.type(root) != JsonType::Array) root = kNoNode;
  if (scriptValues) decodeScriptValues(user_, root);
  presetSlots_ = &slots;
  presetValues_ = root;
  // No selector of this call reads the context itself; an empty one keeps
  // any other path well defined.
  context_ = user_.addObject(nullptr, 0);
}

void Evaluator::setSlotCells(const double* cells, uint32_t pairCount, std::u16string_view text,
                             const std::vector<int32_t>& slots) {
  user_.clear();
  size_t textAt = 0;
  auto scalar = [&](double kind, double x) -> uint32_t {
    if (kind == kCellFalse) return user_.addBool(false);
    if (kind == kCellTrue) return user_.addBool(true);
    if (kind == kCellNumber) return user_.addNumber(x);
    if (kind == kCellString) {
      const size_t left = text.size() - textAt;
      const size_t length = x >= 0 && x <= static_cast<double>(left) ? static_cast<size_t>(x) : 0;
      const size_t start = user_.stringArena().size();
      appendUtf16AsWtf8(text.substr(textAt, length), user_.stringArena());
      textAt += length;
      return user_.addArenaString(start);
    }
    return user_.addNull();
  };
  cellValues_.clear();
  uint32_t at = 0;
  while (cellValues_.size() < slots.size() && at < pairCount) {
    const double kind = cells[2 * at], x = cells[2 * at + 1];
    at++;
    if (kind != kCellArray) {
      cellValues_.push_back(scalar(kind, x));
      continue;
    }
    const uint32_t left = pairCount - at;
    const uint32_t count = x >= 0 && x <= static_cast<double>(left) ? static_cast<uint32_t>(x) : 0;
    cellElements_.clear();
    for (uint32_t k = 0; k < count; k++, at++) {
      const double elementKind = cells[2 * at];
      cellElements_.push_back(elementKind == kCellArray ? user_.addNull() : scalar(elementKind, cells[2 * at + 1]));
    }
    cellValues_.push_back(user_.addArray(cellElements_.data(), count));
  }
  presetSlots_ = &slots;
  presetValues_ = user_.addArray(cellValues_.data(), static_cast<uint32_t>(cellValues_.size()));
  context_ = user_.addObject(nullptr, 0);
}

void Evaluator::presetSlotValues() {
  const std::vector<int32_t>& slots = *presetSlots_;
  const uint32_t count = presetValues_ == kNoNode ? 0 : user_.size(presetValues_);
  for (size_t i = 0; i < slots.size(); i++) {
    if (slots[i] < 0) continue;
    const auto slot = static_cast<size_t>(slots[i]);
    Value v;
    if (i < count) {
      v.kind = Value::Kind::Node;
      v.doc = &user_;
      v.id = user_.element(presetValues_, static_cast<uint32_t>(i));
    }
    slotValue_[slot] = v;
    slotStamp_[slot] = call_;
  }
  presetSlots_ = nullptr;
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

const Evaluator::Value& Evaluator::resolveSlotSlow(uint32_t slot) {
  // Context values depend only on the user: each path prefix is resolved once
  // per evaluate call (stamped with the call number).
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

}  // namespace experiment
