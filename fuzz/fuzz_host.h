// Shared pieces of the fuzz harnesses: a ScriptHost without V8 and the
// finalize step the JavaScript engine performs (native-engine.ts).
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "evaluator.h"
#include "js_string.h"
#include "snapshot.h"

namespace experiment {
namespace fuzz {

// Regex: substring match of the pattern text (deterministic, linear; the real
// host is V8's RegExp, which the fuzzers do not exercise). toLowerCase: ASCII.
class StubScriptHost : public ScriptHost {
 public:
  explicit StubScriptHost(const Snapshot& snapshot) : snapshot_(snapshot) {}
  RegexResult regexTest(int32_t regexId, std::string_view subject) override {
    const auto& patterns = snapshot_.regexPatterns();
    if (regexId < 0 || static_cast<size_t>(regexId) >= patterns.size()) __builtin_trap();
    // A pattern holding "~" stands in for one that runs out of time.
    if (patterns[regexId].find('~') != std::string::npos) return RegexResult::GaveUp;
    return subject.find(patterns[regexId]) != std::string_view::npos ? RegexResult::Match : RegexResult::NoMatch;
  }
  void toLowerCase(std::string_view text, std::string& out) override { asciiLower(text, out); }

 private:
  const Snapshot& snapshot_;
};

// What native-engine.ts does between parse and evaluate: reject patterns the
// host cannot compile (here: unbalanced parentheses stand in for V8's
// SyntaxError) and hand back the lower-cased non-ASCII contains values.
inline void finalizeLikeHost(Snapshot& snapshot) {
  std::vector<std::pair<int32_t, std::string>> invalid;
  const auto& patterns = snapshot.regexPatterns();
  for (size_t i = 0; i < patterns.size(); i++) {
    int depth = 0;
    bool bad = false;
    for (char c : patterns[i]) {
      if (c == '(') depth++;
      if (c == ')' && --depth < 0) bad = true;
    }
    if (bad || depth != 0)
      invalid.emplace_back(static_cast<int32_t>(i), "Invalid regular expression: /" + patterns[i] + "/");
  }
  std::vector<std::string> lowered;
  for (const std::string& v : snapshot.nonAsciiContainsValues()) {
    std::string out;
    asciiLower(v, out);
    lowered.push_back(std::move(out));
  }
  snapshot.finalize(invalid, lowered);
}

// The evaluator's user JSON comes from JSON.stringify through
// napi_get_value_string_utf8: always valid UTF-8. Replace invalid sequences
// (and encoded surrogates) with U+FFFD so the harness feeds what V8 can send.
inline std::string toValidUtf8(std::string_view in) {
  std::string out;
  out.reserve(in.size());
  size_t i = 0;
  while (i < in.size()) {
    unsigned char c = static_cast<unsigned char>(in[i]);
    if (c < 0x80) {
      out.push_back(static_cast<char>(c));
      i++;
      continue;
    }
    size_t len = c >= 0xF0 && c <= 0xF4 ? 4 : c >= 0xE0 ? (c <= 0xEF ? 3 : 0) : c >= 0xC2 ? 2 : 0;
    bool ok = len != 0 && i + len <= in.size();
    uint32_t cp = 0;
    if (ok) {
      cp = c & (0xFF >> (len + 1));
      for (size_t k = 1; k < len; k++) {
        unsigned char d = static_cast<unsigned char>(in[i + k]);
        if ((d & 0xC0) != 0x80) {
          ok = false;
          break;
        }
        cp = (cp << 6) | (d & 0x3F);
      }
    }
    if (ok) {
      if ((len == 3 && (cp < 0x800 || (cp >= 0xD800 && cp <= 0xDFFF))) || (len == 4 && (cp < 0x10000 || cp > 0x10FFFF)))
        ok = false;
    }
    if (ok) {
      out.append(in.data() + i, len);
      i += len;
    } else {
      out.append("\xEF\xBF\xBD");
      i++;
    }
  }
  return out;
}

}  // namespace fuzz
}  // namespace experiment
