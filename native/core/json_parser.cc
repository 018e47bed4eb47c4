#include "json_parser.h"

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <unordered_map>

#include "js_string.h"

namespace experiment {

namespace {

// Index of the first byte at or after `i` that ends a plain run inside a JSON
// string: '"', '\\', a control byte (< 0x20) or, when `stopAtNonAscii`, a byte
// >= 0x80; text.size() when there is none. Eight bytes per step: each test
// below sets the high bit of every byte it matches, and may set it in a higher
// byte only after a true match (borrows run upwards), so the lowest set bit of
// their union is the first byte that ends the run.
size_t plainRunEnd(std::string_view text, size_t i, bool stopAtNonAscii) {
  const size_t n = text.size();
  const char* p = text.data();
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
  constexpr uint64_t ones = 0x0101010101010101ull;
  constexpr uint64_t highs = 0x8080808080808080ull;
  const uint64_t nonAscii = stopAtNonAscii ? highs : 0;
  while (i + 8 <= n) {
    uint64_t w;
    std::memcpy(&w, p + i, 8);
    const uint64_t quote = w ^ (ones * '"');
    const uint64_t backslash = w ^ (ones * '\\');
    const uint64_t hit = ((quote - ones) & ~quote) | ((backslash - ones) & ~backslash) | ((w - ones * 0x20) & ~w);
    const uint64_t stop = (hit & highs) | (w & nonAscii);
    if (stop != 0) return i + static_cast<size_t>(__builtin_ctzll(stop) >> 3);
    i += 8;
  }
#endif
  for (; i < n; i++) {
    const unsigned char c = static_cast<unsigned char>(p[i]);
    if (c == '"' || c == '\\' || c < 0x20 || (c >= 0x80 && stopAtNonAscii)) break;
  }
  return i;
}

int hexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

bool JsonParser::fail(const char* what) {
  if (error_.empty()) {
    error_ = std::string(what) + " at byte " + std::to_string(pos_);
  }
  return false;
}

void JsonParser::skipWhitespace() {
  while (pos_ < text_.size()) {
    char c = text_[pos_];
    if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
      pos_++;
    } else {
      break;
    }
  }
}

uint32_t JsonParser::parseBorrowing(std::string_view text, JsonDocument& doc) {
  doc.borrow(text);
  borrowing_ = true;
  uint32_t root = parse(text, doc);
  borrowing_ = false;
  return root;
}

uint32_t JsonParser::parse(std::string_view text, JsonDocument& doc,
                           std::vector<std::pair<size_t, size_t>>* rootElementSpans) {
  rootSpans_ = rootElementSpans;
  text_ = text;
  pos_ = 0;
  doc_ = &doc;
  error_.clear();
  stack_.clear();
  skipWhitespace();
  uint32_t root = parseValue(0);
  if (root == kNoNode) return kNoNode;
  skipWhitespace();
  if (pos_ != text_.size()) {
    fail("unexpected data after the JSON value");
    return kNoNode;
  }
  return root;
}

uint32_t JsonParser::parseValue(uint32_t depth) {
  if (pos_ >= text_.size()) {
    fail("unexpected end of JSON");
    return kNoNode;
  }
  char c = text_[pos_];
  switch (c) {
    case '{':
    case '[': {
      if (depth >= maxDepth_) {
        if (policy_ == DepthPolicy::KeepRaw) return skipRaw();
        fail("JSON nested too deeply");
        return kNoNode;
      }
      const bool isObject = c == '{';
      const char close = isObject ? '}' : ']';
      pos_++;
      const size_t base = stack_.size();
      skipWhitespace();
      if (pos_ < text_.size() && text_[pos_] == close) {
        pos_++;
        return isObject ? doc_->addObject(nullptr, 0) : doc_->addArray(nullptr, 0);
      }
      for (;;) {
        skipWhitespace();
        if (isObject) {
          if (pos_ >= text_.size() || text_[pos_] != '"') {
            fail("expected a string key");
            return kNoNode;
          }
          uint32_t key = parseString();
          if (key == kNoNode) return kNoNode;
          skipWhitespace();
          if (pos_ >= text_.size() || text_[pos_] != ':') {
            fail("expected ':'");
            return kNoNode;
          }
          pos_++;
          skipWhitespace();
          uint32_t value = parseValue(depth + 1);
          if (value == kNoNode) return kNoNode;
          stack_.push_back(key);
          stack_.push_back(value);
        } else {
          const size_t begin = pos_;
          uint32_t value = parseValue(depth + 1);
          if (value == kNoNode) return kNoNode;
          stack_.push_back(value);
          if (depth == 0 && rootSpans_ != nullptr) rootSpans_->emplace_back(begin, pos_ - begin);
        }
        skipWhitespace();
        if (pos_ >= text_.size()) {
          fail("unexpected end of JSON");
          return kNoNode;
        }
        if (text_[pos_] == ',') {
          pos_++;
          continue;
        }
        if (text_[pos_] == close) {
          pos_++;
          break;
        }
        fail(isObject ? "expected ',' or '}'" : "expected ',' or ']'");
        return kNoNode;
      }
      uint32_t* kids = stack_.data() + base;
      uint32_t n = static_cast<uint32_t>(stack_.size() - base);
      uint32_t id;
      if (isObject) {
        // JSON.parse keeps the first position of a repeated key and its last value.
        uint32_t members = n / 2;
        uint32_t kept = 0;
        for (uint32_t i = 0; i < members; i++) {
          std::string_view key = doc_->string(kids[2 * i]);
          uint32_t j = 0;
          for (; j < kept; j++) {
            if (doc_->string(kids[2 * j]) == key) break;
          }
          if (j < kept) {
            kids[2 * j + 1] = kids[2 * i + 1];
          } else {
            kids[2 * kept] = kids[2 * i];
            kids[2 * kept + 1] = kids[2 * i + 1];
            kept++;
          }
          // Quadratic only while objects are small; hostile objects with many
          // keys switch to a hash index for the rest.
          if (members > 64 && i == 63) {
            std::unordered_map<std::string_view, uint32_t> seen;
            seen.reserve(members);
            for (uint32_t k = 0; k < kept; k++) seen.emplace(doc_->string(kids[2 * k]), k);
            for (uint32_t r = i + 1; r < members; r++) {
              std::string_view rkey = doc_->string(kids[2 * r]);
              auto it = seen.find(rkey);
              if (it != seen.end()) {
                kids[2 * it->second + 1] = kids[2 * r + 1];
              } else {
                kids[2 * kept] = kids[2 * r];
                kids[2 * kept + 1] = kids[2 * r + 1];
                seen.emplace(rkey, kept);
                kept++;
              }
            }
            break;
          }
        }
        id = doc_->addObject(kids, kept);
      } else {
        id = doc_->addArray(kids, n);
      }
      stack_.resize(base);
      return id;
    }
    case '"':
      return parseString();
    case 't':
      if (text_.substr(pos_, 4) == "true") {
        pos_ += 4;
        return doc_->addBool(true);
      }
      break;
    case 'f':
      if (text_.substr(pos_, 5) == "false") {
        pos_ += 5;
        return doc_->addBool(false);
      }
      break;
    case 'n':
      if (text_.substr(pos_, 4) == "null") {
        pos_ += 4;
        return doc_->addNull();
      }
      break;
    default:
      if (c == '-' || (c >= '0' && c <= '9')) return parseNumber();
      break;
  }
  fail("unexpected character");
  return kNoNode;
}

uint32_t JsonParser::skipRaw() {
  // Keep a too-deep value as its exact text: scan to the matching bracket.
  const size_t begin = pos_;
  const bool isArray = text_[pos_] == '[';
  size_t depth = 0;
  while (pos_ < text_.size()) {
    char c = text_[pos_];
    if (c == '"') {
      scratch_.clear();
      if (!readString(scratch_)) return kNoNode;
      continue;
    }
    if (c == '[' || c == '{') depth++;
    if (c == ']' || c == '}') {
      depth--;
      if (depth == 0) {
        pos_++;
        return doc_->addRaw(text_.substr(begin, pos_ - begin), isArray);
      }
    }
    pos_++;
  }
  fail("unexpected end of JSON");
  return kNoNode;
}

uint32_t JsonParser::parseString() {
  if (borrowing_) {
    // Plain strings (no escapes; bytes kept as they are) are slices of the input.
    const size_t i = plainRunEnd(text_, pos_ + 1, !wtf8Input_);
    if (i < text_.size() && text_[i] == '"') {
      uint32_t id = doc_->addBorrowedString(pos_ + 1, i - pos_ - 1);
      pos_ = i + 1;
      return id;
    }
  }
  // Unescaped bytes go straight into the document's arena: one copy of a long string, not two.
  const size_t start = doc_->stringArena().size();
  if (!readString(doc_->stringArena())) return kNoNode;
  return doc_->addArenaString(start);
}

bool JsonParser::readString(std::string& out) {
  pos_++;  // opening quote
  for (;;) {
    // Copy the run of plain ASCII bytes in one go.
    size_t runStart = pos_;
    pos_ = plainRunEnd(text_, pos_, true);
    out.append(text_.data() + runStart, pos_ - runStart);
    if (pos_ >= text_.size()) return fail("unterminated string");
    unsigned char c = static_cast<unsigned char>(text_[pos_]);
    if (c == '"') {
      pos_++;
      return true;
    }
    if (c < 0x20) return fail("control character in string");
    if (c >= 0x80) {
      if (wtf8Input_) {
        size_t n = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : 2;
        n = std::min(n, text_.size() - pos_);
        out.append(text_.data() + pos_, n);
        pos_ += n;
      } else {
        pos_ += appendUtf8Sequence(text_, pos_, out);
      }
      continue;
    }
    // Escape.
    pos_++;
    if (pos_ >= text_.size()) return fail("unterminated string");
    char e = text_[pos_++];
    switch (e) {
      case '"':
        out.push_back('"');
        break;
      case '\\':
        out.push_back('\\');
        break;
      case '/':
        out.push_back('/');
        break;
      case 'b':
        out.push_back('\b');
        break;
      case 'f':
        out.push_back('\f');
        break;
      case 'n':
        out.push_back('\n');
        break;
      case 'r':
        out.push_back('\r');
        break;
      case 't':
        out.push_back('\t');
        break;
      case 'u': {
        auto readHex4 = [&](uint32_t& unit) -> bool {
          if (pos_ + 4 > text_.size()) return false;
          unit = 0;
          for (int i = 0; i < 4; i++) {
            int h = hexValue(text_[pos_ + i]);
            if (h < 0) return false;
            unit = unit * 16 + static_cast<uint32_t>(h);
          }
          pos_ += 4;
          return true;
        };
        uint32_t unit;
        if (!readHex4(unit)) return fail("bad \\u escape");
        if (unit >= 0xD800 && unit <= 0xDBFF && pos_ + 6 <= text_.size() && text_[pos_] == '\\' &&
            text_[pos_ + 1] == 'u') {
          size_t save = pos_;
          pos_ += 2;
          uint32_t low;
          if (readHex4(low) && low >= 0xDC00 && low <= 0xDFFF) {
            appendCodePoint(0x10000 + ((unit - 0xD800) << 10) + (low - 0xDC00), out);
            break;
          }
          pos_ = save;
        }
        appendCodePoint(unit, out);  // lone surrogates become WTF-8
        break;
      }
      default:
        pos_--;
        return fail("bad escape in string");
    }
  }
}

uint32_t JsonParser::parseNumber() {
  const size_t begin = pos_;
  auto digits = [&]() {
    size_t s = pos_;
    while (pos_ < text_.size() && text_[pos_] >= '0' && text_[pos_] <= '9') pos_++;
    return pos_ - s;
  };
  if (text_[pos_] == '-') pos_++;
  if (pos_ >= text_.size()) {
    fail("bad number");
    return kNoNode;
  }
  if (text_[pos_] == '0') {
    pos_++;
  } else if (digits() == 0) {
    fail("bad number");
    return kNoNode;
  }
  if (pos_ < text_.size() && text_[pos_] == '.') {
    pos_++;
    if (digits() == 0) {
      fail("bad number");
      return kNoNode;
    }
  }
  if (pos_ < text_.size() && (text_[pos_] == 'e' || text_[pos_] == 'E')) {
    pos_++;
    if (pos_ < text_.size() && (text_[pos_] == '+' || text_[pos_] == '-')) pos_++;
    if (digits() == 0) {
      fail("bad number");
      return kNoNode;
    }
  }
  return doc_->addNumber(parseDecimal(text_.substr(begin, pos_ - begin)));
}

}  // namespace experiment
