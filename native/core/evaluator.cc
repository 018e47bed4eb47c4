// The evaluator's entry points and per-call loop: construction, per-call
// set-up, evaluate(), and flag/segment evaluation with bucketing. Building the
// user context and selecting values from it are in evaluator_context.cc;
// condition matching, value coercion and the operators in
// evaluator_operators.cc. bucket() stays here, beside evaluateFlag, its only
// hot-path caller, so the compiler can still inline its no-bucket early return.
#include "evaluator.h"

#include <algorithm>
#include <climits>
#include <cstring>

#include "js_string.h"
#include "murmur3.h"

namespace experiment {

namespace {

constexpr uint32_t kMaxUserDepth = 512;

}  // namespace

Evaluator::Evaluator()
    // The user JSON comes from V8 (valid UTF-8; lone surrogates arrive escaped).
    : userParser_(kMaxUserDepth, JsonParser::DepthPolicy::KeepRaw, true),
      listParser_(kMaxUserDepth, JsonParser::DepthPolicy::KeepRaw, true) {}

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
    for (auto& f : slotFacts_) f.stamp = 0;
    call_ = 1;
  }
  resultOrder_.clear();
  if (slotStamp_.size() < snapshot.selectorSlots()) {
    slotStamp_.resize(snapshot.selectorSlots(), 0);
    slotValue_.resize(snapshot.selectorSlots());
    slotScalar_.resize(snapshot.selectorSlots());
    slotFacts_.resize(snapshot.selectorSlots());
  }
  if (presetSlots_ != nullptr) presetSlotValues();
}

uint32_t Evaluator::evaluate(const Snapshot& snapshot, ScriptHost& host, const int32_t* keys, uint32_t keyCount,
                             EvaluationOutput out) {
  beginCall(snapshot, host);
  uint32_t written = 0;
  auto write = [&](uint32_t f, int32_t rid) {
    if (written < out.capacity) {
      out.data[2 * written] = static_cast<int32_t>(f);
      out.data[2 * written + 1] = rid;
      written++;
    }
  };
  if (keys == nullptr) {
    // All flags: the pre-pass answers their cheap conditions in one go.
    precompute();
    for (uint32_t f : snapshot.allOrder()) write(f, runFlag<true>(f));
    return written;
  }
  forEachRequested(snapshot, keys, keyCount, [&](uint32_t f) { write(f, runFlag<false>(f)); });
  return written;
}

void Evaluator::precompute() {
  const Program& p = snapshot_->program();
  answers_.assign(p.initialAnswers.begin(), p.initialAnswers.end());
  groupFalse_.assign(p.groups.size(), 0);
  cheapState_.resize(p.cheapSlots.size());
  for (size_t i = 0; i < p.cheapSlots.size(); i++) {
    const CheapSlot& cs = p.cheapSlots[i];
    CheapSlotState& st = cheapState_[i];
    SlotFacts& f = slotFacts(static_cast<uint32_t>(cs.slot));
    st.id = kNoDictionaryId;
    st.number = 0;
    if (cs.set) {
      st.setState = f.kind == SlotFacts::Kind::Null ? 0 : f.kind == SlotFacts::Kind::Other ? 2 : 3;
      const ScalarCache& sc = slotScalar_[static_cast<size_t>(cs.slot)];
      if (f.kind == SlotFacts::Kind::Other && sc.stamp == call_ && sc.isList) {
        // The ids of its elements (63, outside every mask, for the others).
        st.setState = 1;
        st.listSize = static_cast<uint32_t>(sc.list.size());
        st.listMask = 0;
        for (std::string_view e : sc.list) st.listMask |= uint64_t{1} << dictionaryId(cs, e.data(), e.size());
      }
    }
    if (cs.version) {
      // Parsed once per call in the slot's cache, which the conditions left for later share.
      st.versionState = f.kind == SlotFacts::Kind::Null ? 0 : 2;
      ScalarCache& sc = slotScalar_[static_cast<size_t>(cs.slot)];
      if (f.kind == SlotFacts::Kind::Text) {
        if (!sc.versionReady) {
          sc.version = SemanticVersion::parse(sc.text);
          sc.versionReady = true;
        }
        if (sc.version) {
          st.versionState = 1;
          st.version = &*sc.version;
        }
      }
    }
    if (f.kind == SlotFacts::Kind::Null || f.kind == SlotFacts::Kind::Other) {
      st.state = f.kind == SlotFacts::Kind::Null ? 0 : 2;
      continue;
    }
    st.state = 1;
    if (cs.numeric) {
      // Number() never fails in the reference: unparsable sides are NaN.
      if (!f.numberReady) {
        f.number = jsStringToNumber(std::string_view(f.text, f.length));
        f.numberReady = true;
      }
      st.number = f.number;
    }
    if (cs.equality) {
      if (f.kind == SlotFacts::Kind::Number) fillSlotText(static_cast<uint32_t>(cs.slot), f);
      const bool booleanWord =
          cs.booleans && (f.length == 4 || f.length == 5) && isBooleanWord(std::string_view(f.text, f.length));
      st.id = booleanWord ? dictionaryId(cs, f.length == 4 ? "true" : "false", f.length)
                          : dictionaryId(cs, f.text, f.length);
    }
  }
  precomputeBuckets();
  // Each answer: the slot's null answer, the comparison, or 2 for a value
  // the pre-pass cannot read (a list, an object: matchCondition when reached).
  auto record = [&](const CheapCondition& cc, uint8_t answer) {
    answers_[cc.condition] = answer;
    groupFalse_[cc.group] |= static_cast<uint8_t>(answer == 0);
  };
  auto settle = [&](const CheapCondition& cc, uint8_t state, bool holds) {
    const uint8_t choices[3] = {static_cast<uint8_t>(cc.nullResult), static_cast<uint8_t>(holds), 2};
    record(cc, choices[state]);
  };
  for (const CheapCondition& cc : p.cheapNumeric) {
    const CheapSlotState& st = cheapState_[cc.cheapSlot];
    const double n = st.number;
    const ProgramValue* values = p.values.data() + cc.valueStart;
    bool holds = false;
    for (uint32_t i = 0; i < cc.valueCount; i++) {
      const double v = values[i].number;
      holds |= (cc.wantLess & (n < v)) | (cc.wantEqual & (n == v)) | (cc.wantGreater & (n > v));
    }
    settle(cc, st.state, holds);
  }
  for (const CheapCondition& cc : p.cheapEquality) {
    const CheapSlotState& st = cheapState_[cc.cheapSlot];
    settle(cc, st.state, (((cc.mask >> st.id) & 1) != 0) != cc.negate);
  }
  for (const CheapCondition& cc : p.cheapVersion) {
    const CheapSlotState& st = cheapState_[cc.cheapSlot];
    bool holds = false;
    if (st.versionState == 1) {
      for (uint32_t i = 0; i < cc.valueCount; i++) {
        const int cmp = st.version->compare(p.versions[cc.valueStart + i]);
        holds |= (cc.wantLess & (cmp < 0)) | (cc.wantEqual & (cmp == 0)) | (cc.wantGreater & (cmp > 0));
      }
    }
    settle(cc, st.versionState, holds);
  }
  // As matchSet: all (or any) of the values among the list's elements; a
  // scalar holds no set operator, negated or not.
  for (const CheapCondition& cc : p.cheapSet) {
    const CheapSlotState& st = cheapState_[cc.cheapSlot];
    const uint64_t common = st.listMask & cc.mask;
    const bool holds = cc.anyOf ? common != 0 : common == cc.mask && st.listSize >= cc.valueCount;
    const uint8_t choices[4] = {static_cast<uint8_t>(cc.nullResult), static_cast<uint8_t>(holds != cc.negate), 2, 0};
    record(cc, choices[st.setState]);
  }
}

uint8_t Evaluator::dictionaryId(const CheapSlot& cs, const char* text, size_t length) const {
  const Program& p = snapshot_->program();
  const int32_t* table = p.dictionaryTable.data() + cs.tableFirst;
  const DictionaryEntry* dictionary = p.dictionary.data() + cs.dictionaryFirst;
  const StringEnds ends = StringEnds::of(text, length);
  for (uint32_t h = dictionaryHash(ends, length) & cs.tableMask;; h = (h + 1) & cs.tableMask) {
    const int32_t id = table[h];
    if (id < 0) return kNoDictionaryId;
    const DictionaryEntry& d = dictionary[id];
    if (d.length == length && d.ends == ends &&
        (length <= 16 || std::memcmp(p.text.data() + d.offset, text, length) == 0)) {
      return static_cast<uint8_t>(id);
    }
  }
}

void Evaluator::precomputeBuckets() {
  const Program& p = snapshot_->program();
  bucketState_.assign(p.bucketSegments.size(), 0);
  bucketHash_.resize(p.bucketSegments.size());
  constexpr size_t kMaxRest = 128;  // longer values are hashed when reached
  // Each lane: 4 bytes for the salt's tail (right-aligned, written as one word per segment), then the value.
  uint8_t lanes[4][4 + kMaxRest];
  for (const Program::BucketRun& run : p.bucketRuns) {
    const SlotFacts& f = slotFacts(static_cast<uint32_t>(run.slot));
    if (f.kind == SlotFacts::Kind::Null || (f.kind == SlotFacts::Kind::Text && f.length == 0)) {
      std::fill(bucketState_.begin() + run.first, bucketState_.begin() + run.first + run.count, 2);
      continue;
    }
    const size_t length = run.saltTail + f.length;
    if (f.kind != SlotFacts::Kind::Text || length > kMaxRest) continue;
    for (auto& lane : lanes) std::memcpy(lane + 4, f.text, f.length);
    const size_t restAt = 4 - run.saltTail;
    const uint8_t* rest[4] = {lanes[0] + restAt, lanes[1] + restAt, lanes[2] + restAt, lanes[3] + restAt};
    for (uint32_t i = 0; i < run.count; i += 4) {
      // A short last batch repeats its last segment in the spare lanes.
      uint32_t states[4];
      size_t totals[4];
      uint32_t hashes[4];
      for (uint32_t lane = 0; lane < 4; lane++) {
        const ProgramSegment& ps = p.segments[p.bucketSegments[run.first + std::min(i + lane, run.count - 1)]];
        // The saltTail bytes moved to the word's end, in memory order (a fixed-size copy, not a library call).
        uint32_t tail;
        std::memcpy(&tail, ps.saltTailBytes, 4);
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
        tail = static_cast<uint32_t>(uint64_t{tail} >> (8 * restAt));
#else
        tail = static_cast<uint32_t>(uint64_t{tail} << (8 * restAt));
#endif
        std::memcpy(lanes[lane], &tail, 4);
        states[lane] = ps.saltState;
        totals[lane] = ps.saltLength + f.length;
      }
      murmur3_x86_32_from4(states, rest, length, totals, hashes);
      for (uint32_t lane = 0; lane < 4 && i + lane < run.count; lane++) {
        bucketState_[run.first + i + lane] = 1;
        bucketHash_[run.first + i + lane] = hashes[lane];
      }
    }
  }
}

int32_t Evaluator::evaluateFlag(uint32_t flagIndex) { return runFlag<false>(flagIndex); }

template <bool kPrecomputed>
int32_t Evaluator::runFlag(uint32_t flagIndex) {
  const Program& p = snapshot_->program();
  const ProgramFlag& flag = p.flags[flagIndex];
  for (uint32_t s = 0; s < flag.segments.count; s++) {
    const ProgramSegment& seg = p.segments[flag.segments.first + s];
    if (seg.hasConditions) {
      bool matched = false;
      for (uint32_t g = seg.groups.first, gEnd = g + seg.groups.count; g < gEnd && !matched; g++) {
        // A group with a precomputed false answer is false whatever the rest say (conditions have no effects).
        if (kPrecomputed && groupFalse_[g] != 0) continue;
        const ProgramRange group = p.groups[g];
        bool all = true;
        for (uint32_t c = group.first, cEnd = c + group.count; c < cEnd; c++) {
          if (kPrecomputed && answers_[c] == 1) continue;
          if (!matchProgramCondition(p.conditions[c])) {
            all = false;
            break;
          }
        }
        matched = all;
      }
      if (!matched) continue;
    }
    int32_t variant;
    if (kPrecomputed && seg.bucketIndex != kNoBucketIndex && bucketState_[seg.bucketIndex] != 0) {
      variant = bucketState_[seg.bucketIndex] == 2 ? seg.variant : variantForHash(seg, bucketHash_[seg.bucketIndex]);
    } else {
      variant = bucket(seg);
    }
    if (variant < 0) continue;  // no variant, or a key the flag lacks: next segment
    int32_t rid = static_cast<int32_t>(flag.resultBase + s * flag.variantCount + static_cast<uint32_t>(variant));
    resultStamp_[flagIndex] = call_;
    resultId_[flagIndex] = rid;
    resultOrder_.push_back(flagIndex);
    return rid;
  }
  return -1;
}

void Evaluator::fillSlotFacts(uint32_t slot, SlotFacts& f) {
  f.stamp = call_;
  f.numberReady = false;
  const Value& v = resolveSlot(slot);
  if (v.kind == Value::Kind::Missing || (v.kind == Value::Kind::Node && v.doc->type(v.id) == JsonType::Null)) {
    f.kind = SlotFacts::Kind::Null;
    return;
  }
  if (v.kind == Value::Kind::Node && v.doc->type(v.id) == JsonType::Number) {
    // Number(String(n)) is n for every finite n (-0 aside, which compares as 0).
    f.kind = SlotFacts::Kind::Number;
    f.number = v.doc->node(v.id).number;
    f.numberReady = true;
    return;
  }
  ScalarCache& sc = slotScalar_[slot];
  if (sc.stamp != call_ && v.kind == Value::Kind::Node && v.doc->type(v.id) == JsonType::String &&
      (v.doc->string(v.id).empty() || v.doc->string(v.id)[0] != '[')) {
    // What fillScalarCache makes of a string that cannot be a JSON list, without its general steps.
    sc.stamp = call_;
    sc.numberReady = sc.versionReady = sc.lowerReady = false;
    sc.regexMemo.clear();
    sc.isList = false;
    sc.hasString = true;
    sc.text = v.doc->string(v.id);
  } else {
    scalarCache(slot, v);
  }
  if (sc.isList || !sc.hasString) {
    f.kind = SlotFacts::Kind::Other;
    return;
  }
  f.kind = SlotFacts::Kind::Text;
  f.text = sc.text.data();
  f.length = static_cast<uint32_t>(sc.text.size());
}

void Evaluator::fillSlotText(uint32_t slot, SlotFacts& f) {
  const ScalarCache& sc = scalarCache(slot, resolveSlot(slot));
  f.kind = SlotFacts::Kind::Text;
  f.text = sc.text.data();
  f.length = static_cast<uint32_t>(sc.text.size());
}

bool Evaluator::matchProgramCondition(const ProgramCondition& pc) {
  if (pc.slot < 0) return pc.source->answerInResult.empty() ? matchCondition(*pc.source) : matchOnResult(*pc.source);
  SlotFacts& f = slotFacts(static_cast<uint32_t>(pc.slot));
  if (f.kind == SlotFacts::Kind::Null) return pc.nullResult;
  if (f.kind == SlotFacts::Kind::Other) return matchCondition(*pc.source);
  // A scalar: as matchCondition's scalar branch, with the common operators here.
  const Program& p = snapshot_->program();
  const ProgramValue* values = p.values.data() + pc.valueStart;
  if (pc.op < Op::Less || pc.op > Op::GreaterOrEqual) {
    if (f.kind == SlotFacts::Kind::Number) fillSlotText(static_cast<uint32_t>(pc.slot), f);
  } else {
    // Number() never fails in the reference: unparsable sides are NaN.
    if (!f.numberReady) {
      f.number = jsStringToNumber(std::string_view(f.text, f.length));
      f.numberReady = true;
    }
    const double n = f.number;
    for (uint32_t i = 0; i < pc.valueCount; i++) {
      const double v = values[i].number;
      switch (pc.op) {
        case Op::Less:
          if (n < v) return true;
          break;
        case Op::LessOrEqual:
          if (n <= v) return true;
          break;
        case Op::Greater:
          if (n > v) return true;
          break;
        default:
          if (n >= v) return true;
          break;
      }
    }
    return false;
  }
  if (pc.equality) {
    bool is = false;
    const std::string_view s(f.text, f.length);
    if (pc.booleans && isBooleanWord(s)) {
      // As matchString: a boolean word matches the values equal to it in any ASCII case (those are boolean words).
      for (uint32_t i = 0; i < pc.valueCount && !is; i++) {
        is = equalsIgnoreAsciiCase(std::string_view(p.text.data() + values[i].offset, values[i].length), s);
      }
    } else {
      for (uint32_t i = 0; i < pc.valueCount && !is; i++) {
        is = values[i].length == f.length && std::memcmp(p.text.data() + values[i].offset, f.text, f.length) == 0;
      }
    }
    return (pc.op == Op::Is) == is;
  }
  if (isSetOp(pc.op)) return false;  // a set operator on a scalar
  return matchString(std::string_view(f.text, f.length), *pc.source, &slotScalar_[static_cast<size_t>(pc.slot)]);
}

bool Evaluator::matchOnResult(const Condition& c) {
  // Results never change: a condition on one answers the same for the same result (as select() resolves the path
  // once per result). The last entry: the flag has no result in this call.
  const auto f = static_cast<size_t>(c.selector.resultFlag);
  const size_t at = resultStamp_[f] == call_ ? static_cast<size_t>(resultId_[f]) - snapshot_->flags()[f].resultBase
                                             : c.answerInResult.size() - 1;
  uint8_t& answer = c.answerInResult[at];
  if (answer == kUnknownAnswer) answer = matchCondition(c) ? 1 : 0;
  return answer == 1;
}

int32_t Evaluator::bucket(const Segment& seg) {
  if (!seg.hasBucket) return seg.variant;
  std::string_view value;
  if (!bucketValue(seg.bucketSelector, value) || value.empty()) return seg.variant;
  // salt + "/" + value, in a buffer that only grows.
  const size_t length = seg.saltSlash.size() + value.size();
  if (hashBuffer_.size() < length) hashBuffer_.resize(length);
  std::memcpy(hashBuffer_.data(), seg.saltSlash.data(), seg.saltSlash.size());
  std::memcpy(hashBuffer_.data() + seg.saltSlash.size(), value.data(), value.size());
  return variantForHash(seg, murmur3_x86_32(hashBuffer_.data(), length, 0));
}

int32_t Evaluator::bucket(const ProgramSegment& ps) {
  if (!ps.hasBucket) return ps.variant;
  std::string_view value;
  if (ps.bucketSlot >= 0) {
    // As bucketValue, from the slot's facts when they hold its text.
    const SlotFacts& f = slotFacts(static_cast<uint32_t>(ps.bucketSlot));
    if (f.kind == SlotFacts::Kind::Null) return ps.variant;
    if (f.kind == SlotFacts::Kind::Text) {
      value = std::string_view(f.text, f.length);
    } else if (!bucketValue(ps.source->bucketSelector, value)) {
      return ps.variant;
    }
  } else if (!bucketValue(ps.source->bucketSelector, value)) {
    return ps.variant;
  }
  if (value.empty()) return ps.variant;
  // The salt's last bytes + value, hashed on from the salt's precomputed state.
  const size_t length = ps.saltTail + value.size();
  char local[128];
  char* buffer = local;
  if (length > sizeof local) {
    if (hashBuffer_.size() < length) hashBuffer_.resize(length);
    buffer = hashBuffer_.data();
  }
  std::memcpy(buffer, ps.saltTailBytes, ps.saltTail);
  std::memcpy(buffer + ps.saltTail, value.data(), value.size());
  return variantForHash(ps, murmur3_x86_32_from(ps.saltState, buffer, length, ps.saltLength + value.size()));
}

int32_t Evaluator::variantForHash(const ProgramSegment& ps, uint32_t hash) const {
  // As variantForHash(Segment), on the flat allocations, without a branch on
  // where the hash falls (a 50/50 split would mispredict half the time):
  // walked backwards, each range holding the hash overwrites the answer, so
  // the first one's stays.
  constexpr int32_t kNone = INT32_MIN;  // dist.variant may be -1 (a key the flag lacks)
  const Program& p = snapshot_->program();
  const uint32_t allocationValue = hash % 100;
  const uint32_t distributionValue = hash / 100;
  int32_t variant = ps.variant;
  for (uint32_t a = ps.allocations.first + ps.allocations.count; a-- > ps.allocations.first;) {
    const ProgramAllocation& alloc = p.allocations[a];
    int32_t found = kNone;
    for (uint32_t d = alloc.distributions.first + alloc.distributions.count; d-- > alloc.distributions.first;) {
      const ProgramDistribution& dist = p.distributions[d];
      const int32_t in = -static_cast<int32_t>(dist.range.holds(distributionValue));
      found = (found & ~in) | (dist.variant & in);
    }
    const int32_t in =
        -(static_cast<int32_t>(alloc.range.holds(allocationValue)) & static_cast<int32_t>(found != kNone));
    variant = (variant & ~in) | (found & in);
  }
  return variant;
}

int32_t Evaluator::variantForHash(const Segment& seg, uint32_t hash) {
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

}  // namespace experiment
