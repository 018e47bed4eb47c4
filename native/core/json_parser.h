// Strict JSON parser with the acceptance rules of JavaScript's JSON.parse.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "json_document.h"

namespace experiment {

class JsonParser {
 public:
  enum class DepthPolicy {
    Fail,     // nesting past the limit is an error (flag payloads)
    KeepRaw,  // nesting past the limit is kept as raw text (user values)
  };

  // `wtf8Input`: the text is already WTF-8 (a JavaScript string's bytes, lone
  // surrogates included) and is copied as is; otherwise invalid UTF-8 is
  // replaced by U+FFFD the way a network body decodes.
  explicit JsonParser(uint32_t maxDepth = 512, DepthPolicy policy = DepthPolicy::Fail, bool wtf8Input = false)
      : maxDepth_(maxDepth), policy_(policy), wtf8Input_(wtf8Input) {}

  // Parses `text` into `doc` (appending) and returns the root node id, or
  // kNoNode with error() describing what is wrong and at which byte offset.
  // `rootElementSpans`, when given and the root is an array, receives each
  // element's byte offset and length in `text`.
  uint32_t parse(std::string_view text, JsonDocument& doc,
                 std::vector<std::pair<size_t, size_t>>* rootElementSpans = nullptr);
  // Like parse, but strings without escapes stay slices of `text`, which must
  // outlive the document's contents (the hot path: no copy of user strings).
  uint32_t parseBorrowing(std::string_view text, JsonDocument& doc);
  const std::string& error() const { return error_; }

 private:
  uint32_t parseValue(uint32_t depth);
  uint32_t parseString();
  // Appends the string's bytes (escapes resolved) to `out`.
  bool readString(std::string& out);
  uint32_t parseNumber();
  uint32_t skipRaw();
  void skipWhitespace();
  bool fail(const char* what);

  std::string_view text_;
  bool borrowing_ = false;
  std::vector<std::pair<size_t, size_t>>* rootSpans_ = nullptr;
  size_t pos_ = 0;
  JsonDocument* doc_ = nullptr;
  uint32_t maxDepth_;
  DepthPolicy policy_;
  bool wtf8Input_;
  std::string error_;
  std::string scratch_;
  std::vector<uint32_t> stack_;  // kids of the containers being built
};

}  // namespace experiment
