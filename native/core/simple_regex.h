// RegExp.prototype.test for a subset of ECMAScript patterns (no flags, as the
// reference engine builds them), without calling into V8: literals, `.`,
// classes and the escapes \d \D \w \W \s \S, groups, alternation, greedy and
// lazy quantifiers, and the ^ / $ anchors. No backreferences, lookarounds,
// word boundaries, named groups or Annex B oddities (`\a`, a lone `{` or `]`,
// octal escapes): compile() declines those and the host's engine runs them.
//
// Within the subset the pattern is a regular expression, so whether a match
// exists anywhere in the subject does not depend on backtracking order: a
// Thompson NFA simulated over the subject's UTF-16 code units (what a RegExp
// without the `u` flag reads) gives the ECMAScript answer in time linear in
// the subject.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace experiment {

class SimpleRegex {
 public:
  // The compiled pattern (WTF-8), or null when it is outside the subset.
  static std::unique_ptr<SimpleRegex> compile(std::string_view pattern);

  // Does the pattern match somewhere in `subject` (WTF-8)? `scratch` is
  // reused between calls (one per thread).
  struct Scratch {
    std::vector<uint32_t> current, next, stack;
    std::vector<uint32_t> mark;
    uint32_t generation = 0;
    std::u16string units;
  };
  bool test(std::string_view subject, Scratch& scratch) const;

  struct Set {
    uint64_t ascii[2] = {0, 0};                         // code units < 128
    std::vector<std::pair<char16_t, char16_t>> ranges;  // code units >= 128, sorted
    bool contains(char16_t unit) const;
  };
  enum class Kind : uint8_t { Unit, Set, Split, Jump, Begin, End, Match };
  struct Instruction {
    Kind kind;
    char16_t unit = 0;  // Unit
    uint32_t a = 0;     // Set: set index; Split / Jump: target
    uint32_t b = 0;     // Split: second target
  };

 private:
  friend class RegexCompiler;
  std::vector<Instruction> program_;
  std::vector<Set> sets_;
  bool anchoredStart_ = false;  // every path begins with ^: one attempt, at 0
  // Patterns that are plain text (`beta`, `^pro`, `\.com$`, `ü|ö|ä`) without
  // surrogates are byte searches on the WTF-8 subject (UTF-8 is
  // self-synchronizing, so a byte match is a code unit match).
  enum class Literal : uint8_t { None, Anywhere, Prefix, Suffix, Whole };
  Literal literal_ = Literal::None;
  std::vector<std::string> literals_;  // Anywhere: any of them; otherwise one
};

}  // namespace experiment
