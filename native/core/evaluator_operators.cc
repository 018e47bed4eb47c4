// Evaluator: condition matching. matchCondition (per condition, with the
// per-slot scalar cache), value coercion to a string or a list
// (coerceString, coerceList), and the operators: string, number, version and
// regex comparisons (matchString) and set comparisons (matchSet).
#include <algorithm>

#include "evaluator.h"
#include "js_string.h"

namespace experiment {

namespace {

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

}  // namespace

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
  listInDocument_ = true;
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
  listInDocument_ = doc != &listDoc_ && listArena_.empty();
  return true;
}

void Evaluator::fillScalarCache(ScalarCache& sc, const Value& v) {
  sc.stamp = call_;
  sc.numberReady = sc.versionReady = sc.lowerReady = false;
  sc.regexMemo.clear();
  sc.isList = coerceList(v);
  sc.hasString = !sc.isList && coerceString(v, sc.buffer, sc.text);
  if (sc.isList && listInDocument_) {
    // Every element is a view into the call's document, which outlives the cache entry (as sc.text does).
    sc.list.assign(list_.begin(), list_.end());
  } else if (sc.isList) {
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

bool Evaluator::bucketValue(const Selector& selector, std::string_view& out) {
  if (selector.slot >= 0) {
    const SlotFacts& f = slotFacts(static_cast<uint32_t>(selector.slot));
    if (f.kind == SlotFacts::Kind::Null) return false;
    if (f.kind == SlotFacts::Kind::Text) {
      out = std::string_view(f.text, f.length);
      return true;
    }
    // The slot's coercions are shared with the conditions (user_id and
    // device_id are read by every flag's bucket).
    const auto slot = static_cast<size_t>(selector.slot);
    const Value& v = resolveSlot(static_cast<uint32_t>(slot));
    if (v.kind == Value::Kind::Missing || (v.kind == Value::Kind::Node && v.doc->type(v.id) == JsonType::Null)) {
      return false;
    }
    const ScalarCache& sc = scalarCache(slot, v);
    if (!sc.isList) {
      out = sc.text;
      return sc.hasString;
    }
  }
  return coerceString(select(selector), propBuffer_, out);
}

bool Evaluator::matchCondition(const Condition& c) {
  if (c.selector.slot >= 0) {
    const size_t slot = static_cast<size_t>(c.selector.slot);
    const Value& v = resolveSlot(static_cast<uint32_t>(slot));
    if (v.kind == Value::Kind::Missing || (v.kind == Value::Kind::Node && v.doc->type(v.id) == JsonType::Null)) {
      return matchNull(c);
    }
    ScalarCache& sc = scalarCache(slot, v);
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
        if (!latin1Lower(s, *lower)) host_->toLowerCase(s, *lower);
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
  if (cache != nullptr) {
    for (const auto& [id, result] : cache->regexMemo) {
      if (id == regexId) return result;
    }
  }
  RegexResult r;
  // Linear time and exact for its subset: no call into V8 and no time bound needed.
  if (const SimpleRegex* simple = regexId >= 0 ? snapshot_->simpleRegex(regexId) : nullptr)
    r = simple->test(s, regexScratch_) ? RegexResult::Match : RegexResult::NoMatch;
  else
    r = host_->regexTest(regexId, s);
  if (cache != nullptr) cache->regexMemo.emplace_back(regexId, r);
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
