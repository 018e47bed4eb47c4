#include "simple_regex.h"

#include <algorithm>

#include "js_string.h"

namespace experiment {

namespace {

constexpr uint32_t kInfinite = 0xffffffffu;
constexpr size_t kMaxProgram = 4096;
constexpr uint32_t kMaxCount = 1000;
constexpr uint32_t kMaxDepth = 64;

using Ranges = std::vector<std::pair<char16_t, char16_t>>;

void addRange(Ranges& r, char16_t lo, char16_t hi) { r.emplace_back(lo, hi); }

Ranges digitRanges() { return {{u'0', u'9'}}; }
Ranges wordRanges() { return {{u'0', u'9'}, {u'A', u'Z'}, {u'_', u'_'}, {u'a', u'z'}}; }
// ECMAScript WhiteSpace and LineTerminator (what \s matches).
Ranges spaceRanges() {
  return {{0x09, 0x0d},     {0x20, 0x20},     {0xa0, 0xa0},     {0x1680, 0x1680}, {0x2000, 0x200a},
          {0x2028, 0x2029}, {0x202f, 0x202f}, {0x205f, 0x205f}, {0x3000, 0x3000}, {0xfeff, 0xfeff}};
}
// `.`: every code unit but the line terminators.
Ranges dotRanges() { return {{0x00, 0x09}, {0x0b, 0x0c}, {0x0e, 0x2027}, {0x202a, 0xffff}}; }

Ranges normalize(Ranges r) {
  std::sort(r.begin(), r.end());
  Ranges out;
  for (const auto& [lo, hi] : r) {
    if (!out.empty() && static_cast<uint32_t>(lo) <= static_cast<uint32_t>(out.back().second) + 1) {
      out.back().second = std::max(out.back().second, hi);
    } else {
      out.emplace_back(lo, hi);
    }
  }
  return out;
}

Ranges complement(const Ranges& in) {
  Ranges r = normalize(in);
  Ranges out;
  uint32_t next = 0;
  for (const auto& [lo, hi] : r) {
    if (lo > next) out.emplace_back(static_cast<char16_t>(next), static_cast<char16_t>(lo - 1));
    next = static_cast<uint32_t>(hi) + 1;
  }
  if (next <= 0xffff) out.emplace_back(static_cast<char16_t>(next), static_cast<char16_t>(0xffff));
  return out;
}

// Punctuation that `\x` stands for itself (outside and inside classes).
bool isIdentityEscape(char16_t c) {
  switch (c) {
    case u'^':
    case u'$':
    case u'\\':
    case u'.':
    case u'*':
    case u'+':
    case u'?':
    case u'(':
    case u')':
    case u'[':
    case u']':
    case u'{':
    case u'}':
    case u'|':
    case u'/':
    case u'-':
      return true;
    default:
      return false;
  }
}

bool isDigit(char16_t c) { return c >= u'0' && c <= u'9'; }

struct Node {
  enum class Type : uint8_t { Empty, Unit, Set, Begin, End, Concat, Alt, Repeat };
  Type type = Type::Empty;
  char16_t unit = 0;
  uint32_t set = 0;
  uint32_t min = 0, max = 0;
  std::vector<Node> kids;
};

}  // namespace

// Parses the subset into a tree, then emits a Thompson program.
class RegexCompiler {
 public:
  explicit RegexCompiler(std::u16string_view p) : p_(p) {}

  std::unique_ptr<SimpleRegex> run() {
    Node root;
    if (!parseAlternation(root, 0) || pos_ != p_.size()) return nullptr;
    out_ = std::make_unique<SimpleRegex>();
    out_->sets_ = std::move(sets_);
    if (!emit(root)) return nullptr;
    out_->program_.push_back({SimpleRegex::Kind::Match});
    out_->anchoredStart_ = startsWithBegin(root);
    findLiterals(root);
    return std::move(out_);
  }

 private:
  // The text of a sequence of code units (no surrogates), or false.
  static bool literalText(const Node& n, size_t from, size_t to, std::string& out) {
    std::u16string units;
    if (n.type == Node::Type::Unit) {
      units.push_back(n.unit);
    } else if (n.type == Node::Type::Concat) {
      for (size_t i = from; i < to; i++) {
        if (n.kids[i].type != Node::Type::Unit) return false;
        units.push_back(n.kids[i].unit);
      }
    } else {
      return false;
    }
    for (char16_t u : units) {
      if (u >= 0xd800 && u <= 0xdfff) return false;
    }
    out.clear();
    utf16ToWtf8(units, out);
    return true;
  }

  void findLiterals(const Node& root) {
    using L = SimpleRegex::Literal;
    std::string text;
    if (root.type == Node::Type::Alt) {
      for (const auto& alt : root.kids) {
        if (!literalText(alt, 0, alt.kids.size(), text) || text.empty()) {
          out_->literals_.clear();
          return;
        }
        out_->literals_.push_back(text);
      }
      out_->literal_ = L::Anywhere;
      return;
    }
    if (root.type == Node::Type::Unit) {
      literalText(root, 0, 0, text);
      out_->literals_.push_back(text);
      out_->literal_ = L::Anywhere;
      return;
    }
    if (root.type != Node::Type::Concat || root.kids.empty()) return;
    size_t from = 0, to = root.kids.size();
    const bool begin = root.kids.front().type == Node::Type::Begin;
    const bool end = root.kids.back().type == Node::Type::End && to > (begin ? 1u : 0u);
    if (begin) from++;
    if (end) to--;
    if (!literalText(root, from, to, text)) return;
    if (text.empty() && !(begin && end)) return;
    out_->literals_.push_back(text);
    out_->literal_ = begin && end ? L::Whole : begin ? L::Prefix : end ? L::Suffix : L::Anywhere;
  }

  static bool startsWithBegin(const Node& n) {
    if (n.type == Node::Type::Begin) return true;
    if (n.type == Node::Type::Concat && !n.kids.empty()) return startsWithBegin(n.kids[0]);
    return false;
  }

  bool atEnd() const { return pos_ >= p_.size(); }
  char16_t peek(size_t ahead = 0) const { return pos_ + ahead < p_.size() ? p_[pos_ + ahead] : 0; }

  uint32_t addSet(const Ranges& ranges) {
    SimpleRegex::Set s;
    for (const auto& [lo, hi] : normalize(ranges)) {
      for (uint32_t c = lo; c <= hi && c < 128; c++) s.ascii[c >> 6] |= uint64_t{1} << (c & 63);
      if (hi >= 128) s.ranges.emplace_back(std::max<char16_t>(lo, 128), hi);
    }
    sets_.push_back(std::move(s));
    return static_cast<uint32_t>(sets_.size() - 1);
  }

  bool parseAlternation(Node& out, uint32_t depth) {
    if (depth > kMaxDepth) return false;
    Node alt;
    alt.type = Node::Type::Alt;
    for (;;) {
      Node seq;
      seq.type = Node::Type::Concat;
      while (!atEnd() && peek() != u'|' && peek() != u')') {
        Node term;
        if (!parseTerm(term, depth)) return false;
        seq.kids.push_back(std::move(term));
      }
      alt.kids.push_back(std::move(seq));
      if (atEnd() || peek() != u'|') break;
      pos_++;
    }
    out = alt.kids.size() == 1 ? std::move(alt.kids[0]) : std::move(alt);
    return true;
  }

  bool parseTerm(Node& out, uint32_t depth) {
    Node atom;
    const char16_t c = peek();
    bool quantifiable = true;
    switch (c) {
      case u'^':
      case u'$':
        pos_++;
        atom.type = c == u'^' ? Node::Type::Begin : Node::Type::End;
        quantifiable = false;
        break;
      case u'(':
        pos_++;
        if (peek() == u'?') {
          if (peek(1) != u':') return false;  // lookarounds, named groups
          pos_ += 2;
        }
        if (!parseAlternation(atom, depth + 1) || atEnd() || peek() != u')') return false;
        pos_++;
        break;
      case u'[':
        if (!parseClass(atom)) return false;
        break;
      case u'.':
        pos_++;
        atom.type = Node::Type::Set;
        atom.set = addSet(dotRanges());
        break;
      case u'\\':
        if (!parseEscape(atom)) return false;
        break;
      case u'*':
      case u'+':
      case u'?':
      case u'{':
      case u'}':
      case u']':
        return false;
      default:
        pos_++;
        atom.type = Node::Type::Unit;
        atom.unit = c;
        break;
    }
    uint32_t min = 1, max = 1;
    if (!parseQuantifier(min, max)) return false;
    if (min == 1 && max == 1) {
      out = std::move(atom);
      return true;
    }
    if (!quantifiable) return false;
    out.type = Node::Type::Repeat;
    out.min = min;
    out.max = max;
    out.kids.push_back(std::move(atom));
    return true;
  }

  // Leaves min = max = 1 when there is none; false on a malformed `{`.
  bool parseQuantifier(uint32_t& min, uint32_t& max) {
    switch (peek()) {
      case u'*':
        min = 0, max = kInfinite;
        pos_++;
        break;
      case u'+':
        min = 1, max = kInfinite;
        pos_++;
        break;
      case u'?':
        min = 0, max = 1;
        pos_++;
        break;
      case u'{': {
        pos_++;
        if (!parseCount(min)) return false;
        max = min;
        if (peek() == u',') {
          pos_++;
          if (peek() == u'}') {
            max = kInfinite;
          } else if (!parseCount(max)) {
            return false;
          }
        }
        if (peek() != u'}' || max < min) return false;
        pos_++;
        break;
      }
      default:
        return true;
    }
    if (peek() == u'?') pos_++;  // lazy: the same matches exist
    if (peek() == u'*' || peek() == u'+' || peek() == u'?' || peek() == u'{') return false;
    return true;
  }

  bool parseCount(uint32_t& n) {
    if (!isDigit(peek())) return false;
    n = 0;
    while (isDigit(peek())) {
      n = n * 10 + (peek() - u'0');
      if (n > kMaxCount) return false;
      pos_++;
    }
    return true;
  }

  // A single code unit escape (shared by atoms and classes), or a class
  // escape into `ranges`. Returns false outside the subset.
  bool parseEscapeBody(bool inClass, bool& isUnit, char16_t& unit, Ranges& ranges) {
    pos_++;  // the backslash
    if (atEnd()) return false;
    const char16_t c = peek();
    pos_++;
    isUnit = true;
    switch (c) {
      case u'd':
        isUnit = false, ranges = digitRanges();
        return true;
      case u'D':
        isUnit = false, ranges = complement(digitRanges());
        return true;
      case u'w':
        isUnit = false, ranges = wordRanges();
        return true;
      case u'W':
        isUnit = false, ranges = complement(wordRanges());
        return true;
      case u's':
        isUnit = false, ranges = spaceRanges();
        return true;
      case u'S':
        isUnit = false, ranges = complement(spaceRanges());
        return true;
      case u'n':
        unit = u'\n';
        return true;
      case u'r':
        unit = u'\r';
        return true;
      case u't':
        unit = u'\t';
        return true;
      case u'f':
        unit = u'\f';
        return true;
      case u'v':
        unit = u'\v';
        return true;
      case u'0':
        if (isDigit(peek())) return false;  // octal (Annex B)
        unit = 0;
        return true;
      case u'b':
        if (!inClass) return false;  // a word boundary outside classes
        unit = 0x08;
        return true;
      default:
        if (!isIdentityEscape(c)) return false;
        unit = c;
        return true;
    }
  }

  bool parseEscape(Node& out) {
    bool isUnit = false;
    char16_t unit = 0;
    Ranges ranges;
    if (!parseEscapeBody(false, isUnit, unit, ranges)) return false;
    if (isUnit) {
      out.type = Node::Type::Unit;
      out.unit = unit;
    } else {
      out.type = Node::Type::Set;
      out.set = addSet(ranges);
    }
    return true;
  }

  // One class member: a code unit (isUnit) or a class escape's ranges.
  bool parseClassAtom(bool& isUnit, char16_t& unit, Ranges& ranges) {
    if (atEnd()) return false;
    if (peek() == u'\\') return parseEscapeBody(true, isUnit, unit, ranges);
    isUnit = true;
    unit = peek();
    pos_++;
    return true;
  }

  bool parseClass(Node& out) {
    pos_++;  // [
    bool negated = false;
    if (peek() == u'^') {
      negated = true;
      pos_++;
    }
    Ranges ranges;
    for (;;) {
      if (atEnd()) return false;
      if (peek() == u']') {
        pos_++;
        break;
      }
      bool isUnit = false;
      char16_t lo = 0;
      Ranges escaped;
      if (!parseClassAtom(isUnit, lo, escaped)) return false;
      if (peek() == u'-' && peek(1) != u']' && pos_ + 1 < p_.size()) {
        // A range: both ends must be single code units (Annex B treats a
        // class escape there as literal members; outside the subset).
        pos_++;
        bool hiIsUnit = false;
        char16_t hi = 0;
        Ranges hiEscaped;
        if (!isUnit || !parseClassAtom(hiIsUnit, hi, hiEscaped) || !hiIsUnit || hi < lo) return false;
        addRange(ranges, lo, hi);
        continue;
      }
      if (isUnit)
        addRange(ranges, lo, lo);
      else
        ranges.insert(ranges.end(), escaped.begin(), escaped.end());
    }
    out.type = Node::Type::Set;
    out.set = addSet(negated ? complement(ranges) : ranges);
    return true;
  }

  void push(SimpleRegex::Kind kind, char16_t unit = 0, uint32_t a = 0, uint32_t b = 0) {
    out_->program_.push_back({kind, unit, a, b});
  }
  uint32_t here() const { return static_cast<uint32_t>(out_->program_.size()); }

  bool emit(const Node& n) {
    if (out_->program_.size() > kMaxProgram) return false;
    using K = SimpleRegex::Kind;
    switch (n.type) {
      case Node::Type::Empty:
        return true;
      case Node::Type::Unit:
        push(K::Unit, n.unit);
        return true;
      case Node::Type::Set:
        push(K::Set, 0, n.set);
        return true;
      case Node::Type::Begin:
        push(K::Begin);
        return true;
      case Node::Type::End:
        push(K::End);
        return true;
      case Node::Type::Concat:
        for (const auto& k : n.kids) {
          if (!emit(k)) return false;
        }
        return true;
      case Node::Type::Alt: {
        std::vector<uint32_t> jumps;
        for (size_t i = 0; i < n.kids.size(); i++) {
          uint32_t split = kInfinite;
          if (i + 1 < n.kids.size()) {
            split = here();
            push(K::Split);
            out_->program_[split].a = here();
          }
          if (!emit(n.kids[i])) return false;
          if (i + 1 < n.kids.size()) {
            jumps.push_back(here());
            push(K::Jump);
            out_->program_[split].b = here();
          }
        }
        for (uint32_t j : jumps) out_->program_[j].a = here();
        return true;
      }
      case Node::Type::Repeat: {
        const Node& body = n.kids[0];
        for (uint32_t i = 0; i < n.min; i++) {
          if (!emit(body) || out_->program_.size() > kMaxProgram) return false;
        }
        if (n.max == kInfinite) {
          const uint32_t loop = here();
          push(K::Split);
          out_->program_[loop].a = here();
          if (!emit(body)) return false;
          push(K::Jump, 0, loop);
          out_->program_[loop].b = here();
          return true;
        }
        std::vector<uint32_t> exits;
        for (uint32_t i = n.min; i < n.max; i++) {
          exits.push_back(here());
          push(K::Split);
          out_->program_[exits.back()].a = here();
          if (!emit(body) || out_->program_.size() > kMaxProgram) return false;
        }
        for (uint32_t e : exits) out_->program_[e].b = here();
        return true;
      }
    }
    return false;
  }

  std::u16string_view p_;
  size_t pos_ = 0;
  std::vector<SimpleRegex::Set> sets_;
  std::unique_ptr<SimpleRegex> out_;
};

std::unique_ptr<SimpleRegex> SimpleRegex::compile(std::string_view pattern) {
  std::u16string units;
  wtf8ToUtf16(pattern, units);
  auto compiled = RegexCompiler(units).run();
  if (compiled && compiled->program_.size() > kMaxProgram) return nullptr;
  return compiled;
}

bool SimpleRegex::Set::contains(char16_t unit) const {
  if (unit < 128) return (ascii[unit >> 6] >> (unit & 63)) & 1;
  for (const auto& [lo, hi] : ranges) {
    if (unit < lo) return false;
    if (unit <= hi) return true;
  }
  return false;
}

bool SimpleRegex::test(std::string_view subject, Scratch& s) const {
  switch (literal_) {
    case Literal::None:
      break;
    case Literal::Anywhere:
      for (const auto& text : literals_) {
        if (subject.find(text) != std::string_view::npos) return true;
      }
      return false;
    case Literal::Prefix:
      return subject.substr(0, literals_[0].size()) == literals_[0];
    case Literal::Suffix:
      return subject.size() >= literals_[0].size() &&
             subject.substr(subject.size() - literals_[0].size()) == literals_[0];
    case Literal::Whole:
      return subject == literals_[0];
  }
  const bool ascii = isAscii(subject);
  if (!ascii) wtf8ToUtf16(subject, s.units);
  const size_t n = ascii ? subject.size() : s.units.size();
  auto unitAt = [&](size_t i) -> char16_t {
    return ascii ? static_cast<char16_t>(static_cast<unsigned char>(subject[i])) : s.units[i];
  };
  if (s.mark.size() < program_.size()) s.mark.assign(program_.size(), 0);
  auto nextGeneration = [&]() {
    if (++s.generation == 0) {
      std::fill(s.mark.begin(), s.mark.end(), 0);
      s.generation = 1;
    }
  };
  // Adds pc and everything reachable from it without consuming, at position pos.
  auto add = [&](std::vector<uint32_t>& list, uint32_t pc, size_t pos) {
    s.stack.clear();
    s.stack.push_back(pc);
    while (!s.stack.empty()) {
      uint32_t at = s.stack.back();
      s.stack.pop_back();
      if (s.mark[at] == s.generation) continue;
      s.mark[at] = s.generation;
      const Instruction& in = program_[at];
      switch (in.kind) {
        case Kind::Jump:
          s.stack.push_back(in.a);
          break;
        case Kind::Split:
          s.stack.push_back(in.b);
          s.stack.push_back(in.a);
          break;
        case Kind::Begin:
          if (pos == 0) s.stack.push_back(at + 1);
          break;
        case Kind::End:
          if (pos == n) s.stack.push_back(at + 1);
          break;
        default:
          list.push_back(at);
          break;
      }
    }
  };
  s.current.clear();
  nextGeneration();
  for (size_t pos = 0;; pos++) {
    if (!anchoredStart_ || pos == 0) add(s.current, 0, pos);
    for (uint32_t pc : s.current) {
      if (program_[pc].kind == Kind::Match) return true;
    }
    if (pos == n || (s.current.empty() && anchoredStart_)) return false;
    const char16_t unit = unitAt(pos);
    nextGeneration();
    s.next.clear();
    for (uint32_t pc : s.current) {
      const Instruction& in = program_[pc];
      if (in.kind == Kind::Unit ? in.unit == unit : in.kind == Kind::Set && sets_[in.a].contains(unit)) {
        add(s.next, pc + 1, pos + 1);
      }
    }
    std::swap(s.current, s.next);
  }
}

}  // namespace experiment
