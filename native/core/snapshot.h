// An immutable, compiled set of flag configs: everything that can be done
// once per payload (validation, selector and condition pre-parsing, variant
// lookups, dependency order and closures) is done here, not per evaluation.
#pragma once

#include <cstdint>
#include <cstring>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "json_document.h"
#include "semantic_version.h"
#include "simple_regex.h"

namespace experiment {

enum class Op : uint8_t {
  Is,
  IsNot,
  Contains,
  DoesNotContain,
  Less,
  LessOrEqual,
  Greater,
  GreaterOrEqual,
  VersionLess,
  VersionLessOrEqual,
  VersionGreater,
  VersionGreaterOrEqual,
  SetIs,
  SetIsNot,
  SetContains,
  SetDoesNotContain,
  SetContainsAny,
  SetDoesNotContainAny,
  RegexMatch,
  RegexDoesNotMatch,
  Unknown,
};

struct Selector {
  enum class Root : uint8_t { Missing, Context, Result, Target };
  Root root = Root::Missing;
  // Elements after the root (for Target: the whole selector).
  std::vector<std::string> path;
  // Result root: the index of the flag named by path[0], or -1.
  int32_t resultFlag = -1;
  // Context root: a slot shared by every selector with the same path, so an
  // evaluation resolves each distinct path once.
  int32_t slot = -1;
  // Result root: what the path selects in each possible result of the flag
  // (results are immutable), filled on first use by the evaluator of this
  // snapshot's thread. kUnresolved: not yet; kNoNode: nothing selected.
  mutable std::vector<uint32_t> resolvedInResult;
};

constexpr uint32_t kUnresolved = 0xfffffffeu;

struct FilterValue {
  std::string raw;
  std::string lower;  // toLowerCase(raw); filled for contains operators
  bool isBooleanWord = false;
  double number = 0;  // Number(raw)
  std::optional<SemanticVersion> version;
  int32_t regexId = -1;
};

struct Condition {
  Selector selector;
  Op op = Op::Unknown;
  std::vector<FilterValue> values;
  bool containsNone = false;
  bool containsBooleans = false;
  bool anyVersion = false;
  uint32_t distinctValues = 0;
  // On another flag's result (selector.resultFlag >= 0; not a regex or a
  // contains, which may call into the host): the answer for each possible
  // result of that flag, then for none in the call, filled on first use like
  // Selector::resolvedInResult. kUnknownAnswer: not yet.
  mutable std::vector<uint8_t> answerInResult;
};

constexpr uint8_t kUnknownAnswer = 2;

struct Distribution {
  double start = 0, end = 0;
  int32_t variant = -1;
};

struct Allocation {
  double start = 0, end = 0;
  std::vector<Distribution> distributions;
};

struct Segment {
  bool hasConditions = false;
  std::vector<std::vector<Condition>> conditions;
  bool hasBucket = false;
  Selector bucketSelector;
  std::string saltSlash;  // salt + "/"
  std::vector<Allocation> allocations;
  int32_t variant = -1;  // -1: absent or not a key of the flag's variants
};

struct Flag {
  std::string key;
  uint32_t node = kNoNode;    // the flag object in the payload document
  uint32_t payloadIndex = 0;  // position in the payload array
  size_t payloadStart = 0;    // the flag's JSON text in the payload bytes
  size_t payloadLength = 0;
  bool readsCohorts = false;  // has a cohort filter (official CohortUtils rule)
  std::vector<std::string> variantKeys;
  std::vector<uint32_t> variantNodes;
  std::vector<Segment> segments;
  std::vector<std::string> dependencies;
  uint32_t resultBase = 0;              // result id = resultBase + segment * variants + variant
  std::vector<uint32_t> mergedResults;  // merged result objects, when a selector reads them
};

// The accepted flags again as flat arrays, for the evaluator's hot loop
// (built by finalize; Snapshot::program): a flag's segments, a segment's
// OR-groups and a group's AND-conditions are contiguous ranges, and each
// condition is a small record with what most conditions need (the context
// slot, the answer for a missing value, the filter values' bytes and numbers
// side by side). Everything else is read from `source`.
struct ProgramCondition {
  const Condition* source = nullptr;
  int32_t slot = -1;  // the context slot read, or -1: select() on source->selector
  Op op = Op::Unknown;
  bool nullResult = false;  // the answer when the selected value is null or missing
  bool equality = false;    // Is/IsNot: compared inline against the values' bytes
  bool booleans = false;    // a value is "true" or "false" in some case (source->containsBooleans)
  uint16_t valueCount = 0;  // filter values at values[valueStart...] (0 when more than fit: source)
  uint32_t valueStart = 0;
};

struct ProgramValue {
  uint32_t offset = 0, length = 0;  // the raw text in Program::text
  double number = 0;                // Number(raw)
};

struct ProgramRange {
  uint32_t first = 0, count = 0;
};

constexpr uint32_t kNoBucketIndex = 0xffffffffu;

struct ProgramSegment {
  const Segment* source = nullptr;
  ProgramRange groups;  // into Program::groups, each a range of Program::conditions
  bool hasConditions = false;
  bool hasBucket = false;
  int32_t variant = -1;  // source->variant
  // Bucketing: murmur3 over salt + "/" + value starts from the state after
  // the salt's whole 4-byte blocks (murmur3_blocks); the salt's last
  // saltTail bytes (saltTailBytes) are hashed with the value.
  uint32_t saltState = 0;
  uint32_t saltTail = 0;
  char saltTailBytes[4] = {};
  uint32_t saltLength = 0;                // salt + "/"
  int32_t bucketSlot = -1;                // source->bucketSelector.slot
  ProgramRange allocations;               // into Program::allocations
  uint32_t bucketIndex = kNoBucketIndex;  // into Program::bucketSegments
};

// A [start, end) range of the config as the whole numbers it holds: the
// values bucketing compares with it (the hash modulo 100, the hash divided by
// 100) are whole numbers below 2^32 / 100, and `lo <= x < lo + width` is one
// unsigned comparison, `x - lo < width`. Empty ranges (reversed, a missing
// end, past every such value) have width 0.
struct WholeRange {
  uint32_t lo = 0;
  uint32_t width = 0;
  static WholeRange of(double start, double end);
  bool holds(uint32_t x) const { return x - lo < width; }
};

struct ProgramAllocation {
  WholeRange range;
  ProgramRange distributions;  // into Program::distributions
};

struct ProgramDistribution {
  WholeRange range;
  int32_t variant = -1;
};

struct ProgramFlag {
  ProgramRange segments;
  uint32_t resultBase = 0;
  uint32_t variantCount = 0;
};

// The all-flags pre-pass (Evaluator::precompute): the conditions whose answer
// follows from what a context slot holds in a few plain facts (null or
// missing, Number(value), which of a few known strings it is) are answered
// for every flag at once, in tight loops without data-dependent branches,
// before the flags run; the flags' loop then reads their answers. Those are
// the numeric comparisons and the is / is not conditions on context slots,
// and the set operators but "set is" (values without boolean words).
struct CheapSlot {
  int32_t slot = -1;
  bool numeric = false;   // numeric comparisons read it: Number(value)
  bool equality = false;  // is / is not read it: which dictionary string it is
  bool set = false;       // set operators read it: which dictionary strings its list holds
  bool version = false;   // version comparisons read it: its version
  // Some of its is / is not conditions hold a boolean word ("true", "false" in any ASCII case), which such a
  // condition compares ignoring case with a user value that is one: their dictionary holds those words lowercased,
  // and a user value that is a boolean word is looked up lowercased.
  bool booleans = false;
  // The slot's dictionary: the distinct strings its equality conditions
  // compare with (id = position, below kNoDictionaryId), found through an
  // open-addressing table of positions (-1: empty) of size tableMask + 1.
  uint32_t dictionaryFirst = 0, dictionaryCount = 0;
  uint32_t tableFirst = 0, tableMask = 0;
};

constexpr uint8_t kNoDictionaryId = 63;

struct CheapCondition {
  uint32_t condition = 0;  // index into Program::conditions
  uint32_t group = 0;      // index into Program::groups
  uint32_t cheapSlot = 0;  // index into Program::cheapSlots
  bool nullResult = false;
  bool negate = false;  // is not
  // A numeric comparison holds when some value v has (n < v and wantLess),
  // (n == v and wantEqual) or (n > v and wantGreater).
  bool wantLess = false, wantEqual = false, wantGreater = false;
  uint16_t valueCount = 0;
  uint32_t valueStart = 0;
  uint64_t mask = 0;   // equality and sets: the dictionary ids of the condition's values
  bool anyOf = false;  // sets: contains any (else contains all)
};

// The first min(n, 8) bytes of s as one number (different bytes, different
// numbers), with fixed-size loads: a memcpy of a variable size is a library call.
inline uint64_t leadingBytes(const char* s, size_t n) {
  if (n >= 8) {
    uint64_t v;
    std::memcpy(&v, s, 8);
    return v;
  }
#if (defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__) || defined(_WIN32)
  if (n >= 4) {
    // Two overlapping 4-byte loads: the bytes they share land on the same positions.
    uint32_t a, b;
    std::memcpy(&a, s, 4);
    std::memcpy(&b, s + n - 4, 4);
    return a | (uint64_t{b} << (8 * (n - 4)));
  }
  if (n == 0) return 0;  // (an empty view's pointer may be null)
  const auto byte = [s](size_t i) { return uint64_t{static_cast<unsigned char>(s[i])}; };
  return byte(0) | (byte(n / 2) << (8 * (n / 2))) | (byte(n - 1) << (8 * (n - 1)));
#else
  uint64_t v = 0;
  for (size_t i = 0; i < n; i++) v |= uint64_t{static_cast<unsigned char>(s[i])} << (8 * i);
  return v;
#endif
}

// A string's first and last min(n, 8) bytes: the whole string when n <= 16.
struct StringEnds {
  uint64_t head = 0, tail = 0;
  static StringEnds of(const char* s, size_t n) {
    return {leadingBytes(s, n), n > 8 ? leadingBytes(s + n - 8, 8) : leadingBytes(s, n)};
  }
  bool operator==(const StringEnds& o) const { return head == o.head && tail == o.tail; }
};

// Hash of the dictionary strings (its own: build and lookups agree).
inline uint32_t dictionaryHash(StringEnds ends, size_t n) {
  const uint64_t h =
      (ends.head * 0x9E3779B97F4A7C15ull) ^ (ends.tail * 0xC2B2AE3D27D4EB4Full) ^ (n * 0x165667B19E3779F9ull);
  return static_cast<uint32_t>(h >> 32);
}

// A dictionary string: its bytes in Program::text, and its ends, which are
// the whole comparison for strings of up to 16 bytes (most of them).
struct DictionaryEntry {
  uint32_t offset = 0, length = 0;
  StringEnds ends;
};

struct Program {
  std::vector<ProgramFlag> flags;  // by flag index
  std::vector<ProgramSegment> segments;
  std::vector<ProgramAllocation> allocations;
  std::vector<ProgramDistribution> distributions;
  std::vector<ProgramRange> groups;
  std::vector<ProgramCondition> conditions;
  std::vector<ProgramValue> values;
  std::string text;
  // The pre-pass (see CheapSlot).
  std::vector<CheapSlot> cheapSlots;
  std::vector<CheapCondition> cheapNumeric;
  std::vector<CheapCondition> cheapEquality;
  std::vector<CheapCondition> cheapSet;
  // Version comparisons: valueStart/valueCount index `versions` (the
  // condition's values that are versions), compared as the numeric ones.
  std::vector<CheapCondition> cheapVersion;
  std::vector<SemanticVersion> versions;
  std::vector<DictionaryEntry> dictionary;
  std::vector<int32_t> dictionaryTable;
  // The pre-pass also hashes each bucketing value on a context slot, four
  // segments at a time: the segments (indices) that bucket on a slot, in
  // runs of the same slot and salt tail length.
  struct BucketRun {
    int32_t slot = -1;
    uint32_t saltTail = 0;
    uint32_t first = 0, count = 0;  // into bucketSegments
  };
  std::vector<uint32_t> bucketSegments;
  std::vector<BucketRun> bucketRuns;
  // Per condition: 2 (answer it when reached); the pre-pass overwrites its
  // conditions' entries with 0 or 1 (or 2 for a value it cannot answer).
  std::vector<uint8_t> initialAnswers;
};

struct RejectedFlag {
  std::string key;
  std::string reason;
};

class Snapshot {
 public:
  // Parses and validates a v2 flag-config payload. Returns false with
  // `error` set when the payload as a whole is unusable.
  bool parse(std::string_view payload, std::string& error);

  // Regex patterns used by the flags (index = regex id). The host validates
  // them in its own regex engine, then calls finalize with the invalid ids.
  const std::vector<std::string>& regexPatterns() const { return regexPatterns_; }
  // The pattern with this id when it lies in SimpleRegex's subset (the
  // evaluator runs those itself), else null (the host's engine runs it).
  const SimpleRegex* simpleRegex(int32_t id) const { return simpleRegexes_[static_cast<size_t>(id)].get(); }
  // Contains-operator filter values that are not ASCII; the host lower-cases
  // them with JavaScript's toLowerCase (full Unicode) and hands them back.
  std::vector<std::string> nonAsciiContainsValues() const;
  void finalize(const std::vector<std::pair<int32_t, std::string>>& invalidRegexes,
                const std::vector<std::string>& loweredNonAscii);

  const std::vector<Flag>& flags() const { return flags_; }
  const std::vector<RejectedFlag>& rejected() const { return rejected_; }
  const Program& program() const { return program_; }
  const std::vector<uint32_t>& allOrder() const { return allOrder_; }
  const std::vector<uint32_t>& closure(uint32_t flag) const { return closures_[flag]; }
  uint32_t resultCount() const { return resultCount_; }
  const JsonDocument& document() const { return doc_; }
  bool needsAllMergedResults() const { return needsAllMerged_; }
  // Context paths form a trie of slots; slot i is key slotKey(i) looked up in
  // slot slotParent(i) (-1: the context object itself).
  uint32_t selectorSlots() const { return static_cast<uint32_t>(slotKeys_.size()); }
  int32_t slotParent(uint32_t slot) const { return slotParents_[slot]; }
  const std::string& slotKey(uint32_t slot) const { return slotKeys_[slot]; }
  int32_t indexOf(std::string_view key) const;
  // The context slots the selectors of a flag's dependency closure read (or
  // of every flag: allReadSlots), each once, in first-use order; a selector
  // reading the whole context object adds kWholeContext. The host can send
  // just these values instead of the whole user (Evaluator::setSlotValues).
  const std::vector<int32_t>& readSlots(uint32_t flag) const { return readSlots_[flag]; }
  const std::vector<int32_t>& allReadSlots() const { return allReadSlots_; }
  static constexpr int32_t kWholeContext = -1;

 private:
  struct Candidate {
    Flag flag;
    bool rejected = false;
    std::string reason;
  };
  bool compileFlag(uint32_t node, Flag& flag, std::string& reason);
  bool compileSegment(const Flag& flag, uint32_t node, Segment& segment, std::string& reason);
  bool compileCondition(uint32_t node, Condition& condition, std::string& reason);
  bool compileSelector(uint32_t node, Selector& selector, std::string& reason);
  int32_t variantIndex(const Flag& flag, std::string_view key) const;
  // The steps of finalize, in the order it runs them.
  void applyLoweredNonAscii(const std::vector<std::string>& loweredNonAscii);
  void rejectInvalidRegexFlags(const std::vector<std::pair<int32_t, std::string>>& invalidRegexes);
  void keyCandidatesByFlagKey(std::vector<uint32_t>& record, std::unordered_map<std::string, uint32_t>& position);
  void rejectDependencyCycles(const std::vector<uint32_t>& record,
                              const std::unordered_map<std::string, uint32_t>& position);
  void collectRejectedFlags();
  // Moves the accepted flags into flags_ and indexes them by key.
  void takeFlagsInObjectKeysOrder(const std::vector<uint32_t>& record);
  void assignResultBases();
  void buildOrder();
  void buildMergedResults();
  void assignSelectorSlots();
  void collectReadSlots();
  void buildProgram();
  bool compilingReadsCohorts_ = false;

  JsonDocument doc_;
  std::vector<Candidate> candidates_;
  std::vector<Flag> flags_;
  std::vector<RejectedFlag> rejected_;
  std::vector<std::string> regexPatterns_;
  std::unordered_map<std::string, int32_t> regexIds_;
  std::vector<std::unique_ptr<SimpleRegex>> simpleRegexes_;
  std::vector<uint32_t> allOrder_;
  std::vector<std::vector<uint32_t>> closures_;
  std::unordered_map<std::string, uint32_t> index_;
  uint32_t resultCount_ = 0;
  bool needsAllMerged_ = false;
  std::vector<int32_t> slotParents_;
  std::vector<std::string> slotKeys_;
  std::vector<std::vector<int32_t>> readSlots_;
  std::vector<int32_t> allReadSlots_;
  Program program_;
};

Op parseOp(std::string_view op);
// The condition's answer when the selected value is null or missing
// (evaluator_operators.cc).
bool matchNull(const Condition& c);
inline bool isSetOp(Op op) { return op >= Op::SetIs && op <= Op::SetDoesNotContainAny; }

}  // namespace experiment
