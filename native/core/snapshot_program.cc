// Snapshot::buildProgram: the flat arrays of Program (snapshot.h) that the
// evaluator's hot loop walks instead of the nested Flag/Segment/Condition
// vectors. Each condition becomes 24 bytes next to its neighbours and its
// filter values' bytes sit in one string, so an all-flags call touches a few
// contiguous kilobytes rather than hundreds of scattered allocations.
#include <algorithm>
#include <limits>

#include "murmur3.h"
#include "snapshot.h"

namespace experiment {

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

}  // namespace

void Snapshot::buildProgram() {
  Program& p = program_;
  p = Program{};
  p.flags.resize(flags_.size());
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
        }
      }
    }
  }
}

}  // namespace experiment
