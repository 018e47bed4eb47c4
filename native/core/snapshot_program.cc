// Snapshot::buildProgram: the flat arrays of Program (snapshot.h) that the
// evaluator's hot loop walks instead of the nested Flag/Segment/Condition
// vectors. Each condition becomes 24 bytes next to its neighbours and its
// filter values' bytes sit in one string, so an all-flags call touches a few
// contiguous kilobytes rather than hundreds of scattered allocations.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "js_string.h"
#include "murmur3.h"
#include "snapshot.h"

namespace experiment {

WholeRange WholeRange::of(double start, double end) {
  // For a whole number x: x >= start iff x >= ceil(start), and x < end iff x < ceil(end). NaN compares false
  // both ways (a missing end): an empty range. The values compared are below 2^32 / 100, so bounds are clamped
  // to [0, 2^31] without changing an answer.
  constexpr double kLimit = 2147483648.0;
  if (!(start <= end)) return {};
  const uint32_t lo = start <= 0 ? 0 : start >= kLimit ? 1u << 31 : static_cast<uint32_t>(std::ceil(start));
  const uint32_t hi = end <= 0 ? 0 : end >= kLimit ? 1u << 31 : static_cast<uint32_t>(std::ceil(end));
  if (hi <= lo) return {};
  return {lo, hi - lo};
}

namespace {

// Conditions of an AND-group run cheapest first (the group's answer does not
// depend on the order: conditions have no effects), so a false cheap one
// spares the expensive ones. Rough cost per operator family.
int costRank(const Condition& c) {
  switch (c.op) {
    case Op::Unknown:  // always false
      return 0;
    case Op::Is:
    case Op::IsNot:
    case Op::Less:
    case Op::LessOrEqual:
    case Op::Greater:
    case Op::GreaterOrEqual:
      return c.selector.root == Selector::Root::Context ? 1 : 2;
    case Op::SetIs:
    case Op::SetIsNot:
    case Op::SetContains:
    case Op::SetDoesNotContain:
    case Op::SetContainsAny:
    case Op::SetDoesNotContainAny:
      return 3;
    case Op::Contains:
    case Op::DoesNotContain:
    case Op::VersionLess:
    case Op::VersionLessOrEqual:
    case Op::VersionGreater:
    case Op::VersionGreaterOrEqual:
      return 4;
    default:  // regex
      return 5;
  }
}

// Within a cost class, the positive form first: `is X` or `regex match`
// usually fails (and so decides the AND-group), `is not X` usually holds.
int orderRank(const Condition& c) {
  switch (c.op) {
    case Op::IsNot:
    case Op::DoesNotContain:
    case Op::SetIsNot:
    case Op::SetDoesNotContain:
    case Op::SetDoesNotContainAny:
    case Op::RegexDoesNotMatch:
      return 2 * costRank(c) + 1;
    default:
      return 2 * costRank(c);
  }
}

// The comparison an ordered operator asks for: `op` is one of the four
// operators from `less` on (Less, LessOrEqual, Greater, GreaterOrEqual, or
// their Version twins, in that order in Op).
static_assert(static_cast<int>(Op::LessOrEqual) - static_cast<int>(Op::Less) == 1 &&
                  static_cast<int>(Op::Greater) - static_cast<int>(Op::Less) == 2 &&
                  static_cast<int>(Op::GreaterOrEqual) - static_cast<int>(Op::Less) == 3 &&
                  static_cast<int>(Op::VersionLessOrEqual) - static_cast<int>(Op::VersionLess) == 1 &&
                  static_cast<int>(Op::VersionGreater) - static_cast<int>(Op::VersionLess) == 2 &&
                  static_cast<int>(Op::VersionGreaterOrEqual) - static_cast<int>(Op::VersionLess) == 3,
              "setComparison reads the ordered operators by their offset");
void setComparison(CheapCondition& cc, Op op, Op less) {
  const int k = static_cast<int>(op) - static_cast<int>(less);
  cc.wantLess = k <= 1;
  cc.wantEqual = k == 1 || k == 3;
  cc.wantGreater = k >= 2;
}

// The pre-pass's share of the program (see CheapSlot): which conditions it
// answers, each context slot's dictionary and its table.
void buildCheap(Program& p, const std::vector<uint32_t>& conditionGroup) {
  p.initialAnswers.assign(p.conditions.size(), 2);
  // The lowercased boolean words (see CheapSlot::booleans), appended before any view into p.text is taken here.
  const size_t wordsAt = p.text.size();
  p.text.append("truefalse");
  const std::string_view trueWord(p.text.data() + wordsAt, 4), falseWord(p.text.data() + wordsAt + 4, 5);
  std::unordered_map<int32_t, uint32_t> cheapSlotOf;
  std::vector<std::vector<std::string_view>> dictionaries;
  auto cheapSlot = [&](int32_t slot) -> uint32_t {
    auto it = cheapSlotOf.find(slot);
    if (it != cheapSlotOf.end()) return it->second;
    const auto index = static_cast<uint32_t>(p.cheapSlots.size());
    p.cheapSlots.push_back(CheapSlot{});
    p.cheapSlots.back().slot = slot;
    dictionaries.emplace_back();
    cheapSlotOf.emplace(slot, index);
    return index;
  };
  for (size_t c = 0; c < p.conditions.size(); c++) {
    const ProgramCondition& pc = p.conditions[c];
    if (pc.slot < 0) continue;
    CheapCondition cc;
    cc.condition = static_cast<uint32_t>(c);
    cc.group = conditionGroup[c];
    cc.nullResult = pc.nullResult;
    cc.valueCount = pc.valueCount;
    cc.valueStart = pc.valueStart;
    if (pc.op >= Op::Less && pc.op <= Op::GreaterOrEqual) {
      setComparison(cc, pc.op, Op::Less);
      cc.cheapSlot = cheapSlot(pc.slot);
      p.cheapSlots[cc.cheapSlot].numeric = true;
      p.cheapNumeric.push_back(cc);
      continue;
    }
    if (pc.op >= Op::VersionLess && pc.op <= Op::VersionGreaterOrEqual) {
      // A user value that is not a version is compared as text: when reached.
      if (!pc.source->anyVersion) continue;
      setComparison(cc, pc.op, Op::VersionLess);
      cc.valueStart = static_cast<uint32_t>(p.versions.size());
      for (const FilterValue& v : pc.source->values) {
        if (v.version) p.versions.push_back(*v.version);
      }
      cc.valueCount = static_cast<uint16_t>(p.versions.size() - cc.valueStart);
      cc.cheapSlot = cheapSlot(pc.slot);
      p.cheapSlots[cc.cheapSlot].version = true;
      p.cheapVersion.push_back(cc);
      continue;
    }
    const bool set = pc.op == Op::SetContains || pc.op == Op::SetDoesNotContain || pc.op == Op::SetContainsAny ||
                     pc.op == Op::SetDoesNotContainAny;
    if (set) {
      // A boolean word among the values is compared ignoring case against a list that has one: not here.
      bool booleanWord = false;
      for (uint32_t i = 0; i < pc.valueCount; i++) {
        const ProgramValue& v = p.values[pc.valueStart + i];
        booleanWord = booleanWord || isBooleanWord(std::string_view(p.text.data() + v.offset, v.length));
      }
      if (booleanWord) continue;
    } else if (!pc.equality) {
      continue;
    }
    const bool booleanWords = !set && pc.booleans;
    // Its values get dictionary ids, as long as the slot's dictionary has room.
    const uint32_t slotIndex = cheapSlot(pc.slot);
    std::vector<std::string_view>& dictionary = dictionaries[slotIndex];
    std::vector<std::string_view> added;
    uint64_t mask = 0;
    bool fits = true;
    for (uint32_t i = 0; i < pc.valueCount && fits; i++) {
      const ProgramValue& v = p.values[pc.valueStart + i];
      std::string_view text(p.text.data() + v.offset, v.length);
      if (booleanWords && isBooleanWord(text)) text = text.size() == trueWord.size() ? trueWord : falseWord;
      size_t id = std::find(dictionary.begin(), dictionary.end(), text) - dictionary.begin();
      if (id == dictionary.size()) {
        id = std::find(added.begin(), added.end(), text) - added.begin() + dictionary.size();
        if (id == dictionary.size() + added.size()) added.push_back(text);
      }
      fits = id < kNoDictionaryId;
      if (fits) mask |= uint64_t{1} << id;
    }
    if (!fits) continue;
    dictionary.insert(dictionary.end(), added.begin(), added.end());
    cc.cheapSlot = slotIndex;
    cc.mask = mask;
    if (set) {
      cc.anyOf = pc.op == Op::SetContainsAny || pc.op == Op::SetDoesNotContainAny;
      cc.negate = pc.op == Op::SetDoesNotContain || pc.op == Op::SetDoesNotContainAny;
      p.cheapSlots[slotIndex].set = true;
      p.cheapSet.push_back(cc);
    } else {
      cc.negate = pc.op == Op::IsNot;
      p.cheapSlots[slotIndex].equality = true;
      p.cheapSlots[slotIndex].booleans = p.cheapSlots[slotIndex].booleans || booleanWords;
      p.cheapEquality.push_back(cc);
    }
  }
  // The dictionaries' strings point into p.text; their tables.
  for (size_t i = 0; i < p.cheapSlots.size(); i++) {
    CheapSlot& cs = p.cheapSlots[i];
    const std::vector<std::string_view>& dictionary = dictionaries[i];
    cs.dictionaryFirst = static_cast<uint32_t>(p.dictionary.size());
    cs.dictionaryCount = static_cast<uint32_t>(dictionary.size());
    for (std::string_view text : dictionary) {
      p.dictionary.push_back({static_cast<uint32_t>(text.data() - p.text.data()), static_cast<uint32_t>(text.size()),
                              StringEnds::of(text.data(), text.size())});
    }
    uint32_t size = 4;
    while (size < 2 * dictionary.size()) size *= 2;
    cs.tableFirst = static_cast<uint32_t>(p.dictionaryTable.size());
    cs.tableMask = size - 1;
    p.dictionaryTable.resize(p.dictionaryTable.size() + size, -1);
    for (size_t id = 0; id < dictionary.size(); id++) {
      const DictionaryEntry& entry = p.dictionary[cs.dictionaryFirst + id];
      uint32_t h = dictionaryHash(entry.ends, entry.length) & cs.tableMask;
      while (p.dictionaryTable[cs.tableFirst + h] >= 0) h = (h + 1) & cs.tableMask;
      p.dictionaryTable[cs.tableFirst + h] = static_cast<int32_t>(id);
    }
  }
}

void buildBucketRuns(Program& p) {
  for (uint32_t i = 0; i < p.segments.size(); i++) {
    if (p.segments[i].hasBucket && p.segments[i].bucketSlot >= 0) p.bucketSegments.push_back(i);
  }
  auto key = [&](uint32_t i) { return std::make_pair(p.segments[i].bucketSlot, p.segments[i].saltTail); };
  std::stable_sort(p.bucketSegments.begin(), p.bucketSegments.end(),
                   [&](uint32_t a, uint32_t b) { return key(a) < key(b); });
  for (uint32_t b = 0; b < p.bucketSegments.size(); b++) {
    ProgramSegment& ps = p.segments[p.bucketSegments[b]];
    ps.bucketIndex = b;
    if (p.bucketRuns.empty() || p.bucketRuns.back().slot != ps.bucketSlot ||
        p.bucketRuns.back().saltTail != ps.saltTail) {
      p.bucketRuns.push_back({ps.bucketSlot, ps.saltTail, b, 0});
    }
    p.bucketRuns.back().count++;
  }
}

}  // namespace

void Snapshot::buildProgram() {
  Program& p = program_;
  p = Program{};
  p.flags.resize(flags_.size());
  std::vector<uint32_t> conditionGroup;
  for (size_t f = 0; f < flags_.size(); f++) {
    const Flag& flag = flags_[f];
    ProgramFlag& pf = p.flags[f];
    pf.resultBase = flag.resultBase;
    pf.variantCount = static_cast<uint32_t>(flag.variantKeys.size());
    pf.segments = {static_cast<uint32_t>(p.segments.size()), static_cast<uint32_t>(flag.segments.size())};
    for (const Segment& seg : flag.segments) {
      ProgramSegment ps;
      ps.source = &seg;
      ps.hasConditions = seg.hasConditions;
      ps.hasBucket = seg.hasBucket;
      ps.variant = seg.variant;
      const size_t saltBlocks = seg.saltSlash.size() / 4;
      ps.saltState = murmur3_blocks(seg.saltSlash.data(), saltBlocks, 0);
      ps.saltTail = static_cast<uint32_t>(seg.saltSlash.size() - 4 * saltBlocks);
      std::memcpy(ps.saltTailBytes, seg.saltSlash.data() + 4 * saltBlocks, ps.saltTail);
      ps.saltLength = static_cast<uint32_t>(seg.saltSlash.size());
      ps.bucketSlot = seg.bucketSelector.slot;
      ps.allocations = {static_cast<uint32_t>(p.allocations.size()), static_cast<uint32_t>(seg.allocations.size())};
      for (const Allocation& alloc : seg.allocations) {
        p.allocations.push_back(
            {WholeRange::of(alloc.start, alloc.end),
             {static_cast<uint32_t>(p.distributions.size()), static_cast<uint32_t>(alloc.distributions.size())}});
        for (const Distribution& dist : alloc.distributions)
          p.distributions.push_back({WholeRange::of(dist.start, dist.end), dist.variant});
      }
      ps.groups = {static_cast<uint32_t>(p.groups.size()), static_cast<uint32_t>(seg.conditions.size())};
      p.segments.push_back(ps);
      for (const auto& group : seg.conditions) {
        p.groups.push_back({static_cast<uint32_t>(p.conditions.size()), static_cast<uint32_t>(group.size())});
        std::vector<const Condition*> ordered;
        for (const Condition& c : group) ordered.push_back(&c);
        std::stable_sort(ordered.begin(), ordered.end(),
                         [](const Condition* a, const Condition* b) { return orderRank(*a) < orderRank(*b); });
        for (const Condition* cp : ordered) {
          const Condition& c = *cp;
          ProgramCondition pc;
          pc.source = &c;
          pc.slot = c.selector.root == Selector::Root::Context ? c.selector.slot : -1;
          pc.op = c.op;
          pc.nullResult = matchNull(c);
          pc.equality = c.op == Op::Is || c.op == Op::IsNot;
          pc.booleans = c.containsBooleans;
          if (c.values.size() <= std::numeric_limits<uint16_t>::max()) {
            pc.valueStart = static_cast<uint32_t>(p.values.size());
            pc.valueCount = static_cast<uint16_t>(c.values.size());
            for (const FilterValue& v : c.values) {
              p.values.push_back({static_cast<uint32_t>(p.text.size()), static_cast<uint32_t>(v.raw.size()), v.number});
              p.text.append(v.raw);
            }
          } else {
            pc.slot = -1;  // the evaluator's general path (matchCondition on source)
          }
          p.conditions.push_back(pc);
          conditionGroup.push_back(static_cast<uint32_t>(p.groups.size() - 1));
        }
      }
    }
  }
  buildCheap(p, conditionGroup);
  buildBucketRuns(p);
}

}  // namespace experiment
