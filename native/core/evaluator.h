// Evaluates a Snapshot for one user. One Evaluator per napi_env: it owns the
// reusable scratch (parsed user, per-call result marks) so an evaluation
// allocates nothing once warmed up.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "json_document.h"
#include "json_parser.h"
#include "snapshot.h"

namespace experiment {

// A regex test's outcome. GaveUp: the host's time bound was reached first
// (src/engine/regex-guard.ts); the condition then holds for neither operator.
enum class RegexResult : int32_t { NoMatch = 0, Match = 1, GaveUp = 2 };

// What the evaluator needs from the JavaScript side: the host's regex engine
// (exact ECMAScript semantics, bounded in time) and full-Unicode toLowerCase.
class ScriptHost {
 public:
  virtual ~ScriptHost() = default;
  virtual RegexResult regexTest(int32_t regexId, std::string_view subject) = 0;
  virtual void toLowerCase(std::string_view text, std::string& out) = 0;
};

// One entry per evaluated flag: its index and result id (-1: no result).
struct EvaluationOutput {
  int32_t* data;
  uint32_t capacity;  // in entries (pairs)
};

class Evaluator {
 public:
  Evaluator();

  // Builds the evaluation context from a user JSON object (as JSON.stringify
  // writes it) the way the official SDK's convertUserToEvaluationContext does.
  // An empty string means no user. The parsed user borrows the bytes: they
  // must stay alive and unchanged until the next setUser().
  void setUser(std::string_view userJson);

  // Instead of the whole user: the values of just the context slots `slots`
  // lists (Snapshot::readSlots), for a call whose flags read nothing else.
  // `valuesJson` is a JSON array, element i the value at slots[i] (null when
  // missing), with a leading '!' when it holds tagged values (script_value.h).
  // `slots` must outlive the next evaluate() call.
  void setSlotValues(std::string_view valuesJson, const std::vector<int32_t>& slots);

  // The same values without JSON: `cells` holds (kind, x) pairs, one per
  // value in `slots` order, an array's elements as the pairs right after it
  // (kCellArray, x = element count; elements are scalars). x is the number
  // for kCellNumber and the length in UTF-16 units of the next piece of
  // `text` for kCellString (strings are concatenated in order). Read
  // defensively: a malformed pair is null. src/engine/slot-values.ts writes it.
  static constexpr double kCellNull = 0, kCellFalse = 1, kCellTrue = 2, kCellNumber = 3, kCellString = 4,
                          kCellArray = 5;
  void setSlotCells(const double* cells, uint32_t pairCount, std::u16string_view text,
                    const std::vector<int32_t>& slots);

  // Evaluates all flags (keys == nullptr) or the given flag indices plus
  // their dependencies. Returns the number of entries written.
  uint32_t evaluate(const Snapshot& snapshot, ScriptHost& host, const int32_t* keys, uint32_t keyCount,
                    EvaluationOutput out);

  // The same evaluation with a trace, for evaluateV2Details (not the hot
  // path; evaluate() is unchanged by it): visits the same flags in the same
  // order with the same results, and appends to `json` why each flag got its
  // result (segments tried, conditions and the values they saw, bucketing).
  // Format in evaluator_explain.cc. Returns the number of flags visited.
  uint32_t explain(const Snapshot& snapshot, ScriptHost& host, const int32_t* keys, uint32_t keyCount,
                   std::string& json);

 private:
  void beginCall(const Snapshot& snapshot, ScriptHost& host);
  // Calls visit(flag) for what a call asked for: every flag in dependency
  // order (keys == nullptr), or each requested flag's dependency closure,
  // each flag once. Unknown indices are skipped.
  template <typename Visit>
  void forEachRequested(const Snapshot& snapshot, const int32_t* keys, uint32_t keyCount, Visit&& visit) {
    if (keys == nullptr) {
      for (uint32_t f : snapshot.allOrder()) visit(f);
      return;
    }
    const size_t n = snapshot.flags().size();
    for (uint32_t i = 0; i < keyCount; i++) {
      const int32_t k = keys[i];
      if (k < 0 || static_cast<size_t>(k) >= n) continue;
      for (uint32_t f : snapshot.closure(static_cast<uint32_t>(k))) {
        if (stamp_[f] == call_) continue;
        stamp_[f] = call_;
        visit(f);
      }
    }
  }
  void traceFlag(uint32_t flagIndex, std::string& json);
  void traceSelected(const Selector& selector, std::string& json);
  struct Value {
    enum class Kind : uint8_t { Missing, Node, Function, ObjectPrototype, ArrayPrototype, Number, Target, Results };
    Kind kind = Kind::Missing;
    const JsonDocument* doc = nullptr;
    uint32_t id = kNoNode;
    std::string_view name;  // Function: its name
    double number = 0;
  };

  // What an all-flags call asks of a context slot most often, in 24 bytes
  // per slot: null or missing, a scalar with its String() text, a number
  // (its text made only when a condition needs it: numeric comparisons use
  // the number as it came), or something else (a list, an object: the
  // general path). Filled on first use per call.
  struct SlotFacts {
    enum class Kind : uint8_t { Null, Text, Other, Number };
    uint32_t stamp = 0;
    Kind kind = Kind::Null;
    bool numberReady = false;
    uint32_t length = 0;
    const char* text = nullptr;
    double number = 0;  // Number(text), when numberReady
  };
  SlotFacts& slotFacts(uint32_t slot) {
    SlotFacts& f = slotFacts_[slot];
    if (f.stamp != call_) fillSlotFacts(slot, f);
    return f;
  }
  void fillSlotFacts(uint32_t slot, SlotFacts& f);
  // A Number slot's String() text (kind becomes Text).
  void fillSlotText(uint32_t slot, SlotFacts& f);
  // A condition of the flat program: the common cases inline, the rest
  // through matchCondition on its source.
  bool matchProgramCondition(const ProgramCondition& pc);

  void buildContext(uint32_t user);
  void presetSlotValues();
  int32_t evaluateFlag(uint32_t flagIndex);
  // kPrecomputed: the call ran precompute(), the flags read its answers.
  template <bool kPrecomputed>
  int32_t runFlag(uint32_t flagIndex);
  // The all-flags pre-pass (CheapSlot in snapshot.h): fills answers_ and groupFalse_.
  void precompute();
  bool matchCondition(const Condition& c);
  // matchCondition for a condition with Condition::answerInResult.
  bool matchOnResult(const Condition& c);
  int32_t bucket(const Segment& segment);
  // bucket() for the flat program (the salt's hash state precomputed).
  int32_t bucket(const ProgramSegment& segment);
  // The variant a bucketing hash gives in a segment of the program.
  int32_t variantForHash(const ProgramSegment& segment, uint32_t hash) const;
  // The variant of the first distribution in range of the first allocation
  // in range that has one; the segment's own variant otherwise.
  static int32_t variantForHash(const Segment& segment, uint32_t hash);
  Value select(const Selector& selector);
  // Inline for the common case (resolved earlier in this call): every
  // condition and bucket on a context path asks.
  const Value& resolveSlot(uint32_t slot) {
    return slotStamp_[slot] == call_ ? slotValue_[slot] : resolveSlotSlow(slot);
  }
  const Value& resolveSlotSlow(uint32_t slot);
  Value lookup(const Value& from, std::string_view key);
  // String coercion (String(v), or JSON.stringify for objects); false when null.
  bool coerceString(const Value& v, std::string& buffer, std::string_view& out);
  // The reference's coerceStringArray; false when the value is not a list.
  bool coerceList(const Value& v);
  // What a scalar context value coerces to, kept per slot for one call so the
  // conditions sharing a selector convert it once.
  struct ScalarCache {
    uint32_t stamp = 0;
    bool isList = false;
    bool hasString = false;
    bool numberReady = false;
    bool versionReady = false;
    bool lowerReady = false;
    std::string_view text;
    std::string buffer;
    double number = 0;
    std::optional<SemanticVersion> version;
    std::vector<std::string_view> list;  // the elements, when isList
    std::string listArena;
    // Regex outcomes on this value in this call (patterns recur across flags;
    // each test is a call into V8).
    std::vector<std::pair<int32_t, RegexResult>> regexMemo;
    std::string lower;  // toLowerCase(text), when lowerReady
  };
  // The slot's coercions for this call, computed on first use.
  ScalarCache& scalarCache(size_t slot, const Value& v) {
    ScalarCache& sc = slotScalar_[slot];
    if (sc.stamp != call_) fillScalarCache(sc, v);
    return sc;
  }
  void fillScalarCache(ScalarCache& sc, const Value& v);
  // String(value) of a bucketing selector; false when there is none.
  bool bucketValue(const Selector& selector, std::string_view& out);
  bool matchString(std::string_view s, const Condition& c, ScalarCache* cache = nullptr);
  // The host's regex test, remembered per value for the call when `cache` is given.
  RegexResult regexTest(int32_t regexId, std::string_view s, ScalarCache* cache);
  bool matchSet(const Condition& c);
  bool matchesIsList(std::string_view value);
  bool listHasBooleans();

  const Snapshot* snapshot_ = nullptr;
  ScriptHost* host_ = nullptr;
  uint32_t call_ = 0;
  std::vector<uint32_t> stamp_;        // flag visited in this call
  std::vector<uint32_t> resultStamp_;  // flag has a result in this call
  std::vector<int32_t> resultId_;
  std::vector<uint32_t> resultOrder_;  // flags with results, in evaluation order

  // Context selector values, resolved at most once per call (by slot).
  std::vector<uint32_t> slotStamp_;
  std::vector<Value> slotValue_;
  std::vector<ScalarCache> slotScalar_;
  std::vector<SlotFacts> slotFacts_;

  // The pre-pass's per-call state: per cheap slot (0 null, 1 a value, 2
  // something else; its dictionary id and number), per condition its answer
  // (0, 1, 2: evaluate when reached), per group whether an answer was 0.
  // For the set operators: setState 0 null, 1 a list (listMask: the
  // dictionary ids of its elements), 2 something else, 3 a scalar.
  struct CheapSlotState {
    uint8_t state = 0;
    uint8_t id = kNoDictionaryId;
    uint8_t setState = 0;
    uint8_t versionState = 0;  // as state; 2 also for text that is no version
    const SemanticVersion* version = nullptr;
    uint32_t listSize = 0;
    uint64_t listMask = 0;
    double number = 0;
  };
  uint8_t dictionaryId(const CheapSlot& slot, const char* text, size_t length) const;
  std::vector<CheapSlotState> cheapState_;
  std::vector<uint8_t> answers_;
  std::vector<uint8_t> groupFalse_;
  // Per Program::bucketSegments entry: 0 (bucket when reached), 1 (hashed:
  // bucketHash_), 2 (no value: the segment's own variant).
  std::vector<uint8_t> bucketState_;
  std::vector<uint32_t> bucketHash_;
  void precomputeBuckets();

  JsonDocument user_;
  JsonParser userParser_;
  uint32_t context_ = kNoNode;
  // setSlotValues: the slots and the array of their values, stamped as
  // resolved by the next beginCall.
  const std::vector<int32_t>* presetSlots_ = nullptr;
  uint32_t presetValues_ = kNoNode;
  std::vector<uint32_t> pairs_;
  std::vector<uint32_t> cellValues_;
  std::vector<uint32_t> cellElements_;

  // Scratch for coercions; views into these live only within one condition.
  std::string propBuffer_;
  std::string elementBuffer_;
  std::string lowerBuffer_;
  std::string lowerFilter_;
  std::string hashBuffer_;
  std::vector<std::pair<uint32_t, uint32_t>> listSpans_;
  std::string listArena_;
  std::vector<std::string_view> list_;
  // The last coerceList's elements are all views into a document that lasts the call (not listDoc_, not
  // listArena_): a slot's cache may keep them as they are.
  bool listInDocument_ = false;
  const std::vector<std::string_view>* items_ = &list_;  // the list matchSet works on
  std::vector<std::string_view> sorted_;
  JsonDocument listDoc_;
  JsonParser listParser_;
  SimpleRegex::Scratch regexScratch_;
};

}  // namespace experiment
