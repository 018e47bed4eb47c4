// libFuzzer target: the native regex subset (native/core/simple_regex.cc).
// The input is a pattern and a subject separated by the first "\n----\n"
// (without one, the whole input is the pattern, tested on a few subjects);
// both are made WTF-8 first, as the matcher only ever gets.
// Checks: compiling and testing never crash or run away (the program size is
// bounded, the simulation linear), and answers obey what holds for every
// regular pattern: a subject that matches keeps matching with text added
// after it when the pattern has no `$`, and before it when it has no `^`.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "js_string.h"
#include "simple_regex.h"

using namespace experiment;

namespace {

// Patterns and subjects reach the matcher as WTF-8 (the payload parser and
// V8 make them so): invalid UTF-8 becomes U+FFFD first, as there.
std::string wtf8(std::string_view bytes) {
  std::string out;
  for (size_t i = 0; i < bytes.size();) {
    if (static_cast<unsigned char>(bytes[i]) < 0x80) {
      out.push_back(bytes[i++]);
    } else {
      i += appendUtf8Sequence(bytes, i, out);
    }
  }
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  static constexpr std::string_view kSeparator = "\n----\n";
  std::string pattern;
  std::string subject;
  bool hasSubject = false;
  if (size_t at = input.find(kSeparator); at != std::string_view::npos) {
    pattern = wtf8(input.substr(0, at));
    subject = wtf8(input.substr(at + kSeparator.size()));
    hasSubject = true;
  } else {
    pattern = wtf8(input);
  }
  auto regex = SimpleRegex::compile(pattern);
  if (!regex) return 0;
  SimpleRegex::Scratch scratch;
  const std::string_view fixed[] = {"", "a", "user-12", "\xc3\xbc", "\xf0\x9f\x98\x80", "\xed\xa0\x80x", "a\nb"};
  for (std::string_view s : fixed) regex->test(s, scratch);
  if (!hasSubject) return 0;
  const bool matched = regex->test(subject, scratch);
  if (regex->test(subject, scratch) != matched) __builtin_trap();  // deterministic, scratch reuse included
  if (matched) {
    const bool anchoredEnd = pattern.find('$') != std::string::npos;
    const bool anchoredStart = pattern.find('^') != std::string::npos;
    if (!anchoredEnd && !regex->test(subject + "zz", scratch)) __builtin_trap();
    if (!anchoredStart && !regex->test("zz" + subject, scratch)) __builtin_trap();
  }
  return 0;
}
