// Snapshot::buildProgram: the flat arrays of Program (snapshot.h) that the
// evaluator's hot loop walks instead of the nested Flag/Segment/Condition
// vectors. Each condition becomes 24 bytes next to its neighbours and its
// filter values' bytes sit in one string, so an all-flags call touches a few
// contiguous kilobytes rather than hundreds of scattered allocations.
#include <limits>

#include "snapshot.h"

namespace experiment {

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
      ps.groups = {static_cast<uint32_t>(p.groups.size()), static_cast<uint32_t>(seg.conditions.size())};
      p.segments.push_back(ps);
      for (const auto& group : seg.conditions) {
        p.groups.push_back({static_cast<uint32_t>(p.conditions.size()), static_cast<uint32_t>(group.size())});
        for (const Condition& c : group) {
          ProgramCondition pc;
          pc.source = &c;
          pc.slot = c.selector.root == Selector::Root::Context ? c.selector.slot : -1;
          pc.op = c.op;
          pc.nullResult = matchNull(c);
          pc.plainText = (c.op == Op::Is || c.op == Op::IsNot) && !c.containsBooleans;
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
