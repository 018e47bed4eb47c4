#include "cohort_parser.h"

#include <cstring>

#include "js_string.h"

namespace experiment {

namespace {

constexpr int kMaxDepth = 512;

inline int hexDigit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

bool CohortParser::fail(const char* message) {
  if (error_.empty()) {
    error_ = message;
    error_ += " at byte ";
    error_ += std::to_string(pos_);
  }
  return false;
}

void CohortParser::skipWs() {
  while (pos_ < size_) {
    char c = data_[pos_];
    if (c != ' ' && c != '\n' && c != '\r' && c != '\t') return;
    pos_++;
  }
}

bool CohortParser::expect(char c) {
  skipWs();
  if (pos_ >= size_ || data_[pos_] != c) return fail("unexpected token");
  pos_++;
  return true;
}

bool CohortParser::readString(std::string& scratch, std::string_view& view) {
  // pos_ is on the opening quote.
  size_t start = ++pos_;
  // Fast path: plain ASCII without escapes.
  while (pos_ < size_) {
    unsigned char c = static_cast<unsigned char>(data_[pos_]);
    if (c == '"') {
      view = std::string_view(data_ + start, pos_ - start);
      pos_++;
      return true;
    }
    if (c == '\\' || c >= 0x80 || c < 0x20) break;
    pos_++;
  }
  if (pos_ >= size_) return fail("unterminated string");
  scratch.assign(data_ + start, pos_ - start);
  while (pos_ < size_) {
    unsigned char c = static_cast<unsigned char>(data_[pos_]);
    if (c == '"') {
      pos_++;
      view = scratch;
      return true;
    }
    if (c < 0x20) return fail("control character in string");
    if (c >= 0x80) {
      // Bytes are decoded as the official SDK's utf-8 toString() does (U+FFFD for invalid sequences).
      pos_ += appendUtf8Sequence(std::string_view(data_, size_), pos_, scratch);
      continue;
    }
    if (c != '\\') {
      scratch.push_back(static_cast<char>(c));
      pos_++;
      continue;
    }
    if (++pos_ >= size_) return fail("unterminated escape");
    char e = data_[pos_++];
    switch (e) {
      case '"':
        scratch.push_back('"');
        break;
      case '\\':
        scratch.push_back('\\');
        break;
      case '/':
        scratch.push_back('/');
        break;
      case 'b':
        scratch.push_back('\b');
        break;
      case 'f':
        scratch.push_back('\f');
        break;
      case 'n':
        scratch.push_back('\n');
        break;
      case 'r':
        scratch.push_back('\r');
        break;
      case 't':
        scratch.push_back('\t');
        break;
      case 'u': {
        auto readHex4 = [&](uint32_t& out) -> bool {
          if (pos_ + 4 > size_) return false;
          uint32_t v = 0;
          for (int i = 0; i < 4; i++) {
            int d = hexDigit(data_[pos_ + i]);
            if (d < 0) return false;
            v = (v << 4) | static_cast<uint32_t>(d);
          }
          pos_ += 4;
          out = v;
          return true;
        };
        uint32_t cp;
        if (!readHex4(cp)) return fail("bad \\u escape");
        if (cp >= 0xD800 && cp <= 0xDBFF && pos_ + 6 <= size_ && data_[pos_] == '\\' && data_[pos_ + 1] == 'u') {
          size_t save = pos_;
          pos_ += 2;
          uint32_t lo;
          if (readHex4(lo) && lo >= 0xDC00 && lo <= 0xDFFF) {
            cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
          } else {
            pos_ = save;  // a lone high surrogate; the next escape is read on its own
          }
        }
        appendCodePoint(cp, scratch);  // lone surrogates keep their 3-byte (WTF-8) form
        break;
      }
      default:
        return fail("bad escape");
    }
  }
  return fail("unterminated string");
}

bool CohortParser::readNumber(double& out) {
  size_t start = pos_;
  if (pos_ < size_ && data_[pos_] == '-') pos_++;
  if (pos_ >= size_) return fail("bad number");
  if (data_[pos_] == '0') {
    pos_++;
  } else if (data_[pos_] >= '1' && data_[pos_] <= '9') {
    while (pos_ < size_ && data_[pos_] >= '0' && data_[pos_] <= '9') pos_++;
  } else {
    return fail("bad number");
  }
  if (pos_ < size_ && data_[pos_] == '.') {
    pos_++;
    size_t digits = pos_;
    while (pos_ < size_ && data_[pos_] >= '0' && data_[pos_] <= '9') pos_++;
    if (pos_ == digits) return fail("bad number");
  }
  if (pos_ < size_ && (data_[pos_] == 'e' || data_[pos_] == 'E')) {
    pos_++;
    if (pos_ < size_ && (data_[pos_] == '+' || data_[pos_] == '-')) pos_++;
    size_t digits = pos_;
    while (pos_ < size_ && data_[pos_] >= '0' && data_[pos_] <= '9') pos_++;
    if (pos_ == digits) return fail("bad number");
  }
  out = parseDecimal(std::string_view(data_ + start, pos_ - start));
  return true;
}

bool CohortParser::skipLiteral(const char* word) {
  size_t n = std::strlen(word);
  if (pos_ + n > size_ || std::memcmp(data_ + pos_, word, n) != 0) return fail("unexpected token");
  pos_ += n;
  return true;
}

bool CohortParser::skipValue(int depth) {
  if (depth > kMaxDepth) return fail("nesting too deep");
  skipWs();
  if (pos_ >= size_) return fail("unexpected end of data");
  char c = data_[pos_];
  std::string scratch;
  std::string_view view;
  switch (c) {
    case '"':
      return readString(scratch, view);
    case '{': {
      pos_++;
      skipWs();
      if (pos_ < size_ && data_[pos_] == '}') {
        pos_++;
        return true;
      }
      for (;;) {
        skipWs();
        if (pos_ >= size_ || data_[pos_] != '"') return fail("expected a key");
        if (!readString(scratch, view) || !expect(':') || !skipValue(depth + 1)) return false;
        skipWs();
        if (pos_ < size_ && data_[pos_] == ',') {
          pos_++;
          continue;
        }
        return expect('}');
      }
    }
    case '[': {
      pos_++;
      skipWs();
      if (pos_ < size_ && data_[pos_] == ']') {
        pos_++;
        return true;
      }
      for (;;) {
        if (!skipValue(depth + 1)) return false;
        skipWs();
        if (pos_ < size_ && data_[pos_] == ',') {
          pos_++;
          continue;
        }
        return expect(']');
      }
    }
    case 't':
      return skipLiteral("true");
    case 'f':
      return skipLiteral("false");
    case 'n':
      return skipLiteral("null");
    default: {
      double ignored;
      return readNumber(ignored);
    }
  }
}

template <typename Fn>
bool CohortParser::forEachMember(size_t arrayStart, Fn&& fn) {
  pos_ = arrayStart + 1;  // past '['
  std::string scratch;
  std::string_view view;
  skipWs();
  if (pos_ < size_ && data_[pos_] == ']') {
    pos_++;  // an empty member list is valid (empty cohorts are common)
    return true;
  }
  for (;;) {
    skipWs();
    if (pos_ < size_ && data_[pos_] == '"') {
      if (!readString(scratch, view)) return false;
      fn(view);
    } else if (!skipValue(1)) {
      return false;  // non-string members are skipped: no string id can equal them
    }
    skipWs();
    if (pos_ < size_ && data_[pos_] == ',') {
      pos_++;
      continue;
    }
    return expect(']');
  }
}

std::unique_ptr<Cohort> CohortParser::parse(std::string_view fallbackId, std::string* error) {
  auto cohort = std::make_unique<Cohort>();
  bool haveId = false;
  size_t membersAt = 0;
  bool haveMembers = false;
  size_t memberStrings = 0;
  std::string scratch;
  std::string_view view;

  auto finishError = [&]() -> std::unique_ptr<Cohort> {
    *error = error_.empty() ? std::string("invalid cohort payload") : error_;
    return nullptr;
  };

  pos_ = 0;
  // A UTF-8 byte order mark is not JSON whitespace: JSON.parse rejects it too.
  if (!expect('{')) return finishError();
  skipWs();
  if (pos_ < size_ && data_[pos_] == '}') {
    pos_++;
  } else {
    for (;;) {
      skipWs();
      if (pos_ >= size_ || data_[pos_] != '"') {
        fail("expected a key");
        return finishError();
      }
      if (!readString(scratch, view)) return finishError();
      std::string key(view);
      if (!expect(':')) return finishError();
      skipWs();
      char c = pos_ < size_ ? data_[pos_] : '\0';
      if (key == "memberIds" && c == '[') {
        membersAt = pos_;
        haveMembers = true;
        memberStrings = 0;
        if (!forEachMember(membersAt, [&](std::string_view) { memberStrings++; })) return finishError();
      } else if (key == "memberIds") {
        haveMembers = false;  // a later non-array value wins, as in JSON.parse
        if (!skipValue(1)) return finishError();
      } else if ((key == "cohortId" || key == "groupType") && c == '"') {
        if (!readString(scratch, view)) return finishError();
        if (key == "cohortId") {
          cohort->id.assign(view);
          haveId = true;
        } else {
          cohort->groupType.assign(view);
        }
      } else if ((key == "lastModified" || key == "size" || key == "groupTypeId" || key == "lastComputed") &&
                 (c == '-' || (c >= '0' && c <= '9'))) {
        double v;
        if (!readNumber(v)) return finishError();
        if (key == "lastModified")
          cohort->lastModified = v;
        else if (key == "size")
          cohort->size = v;
        else if (key == "groupTypeId")
          cohort->groupTypeId = v;
        else
          cohort->lastComputed = v;
      } else {
        if (key == "cohortId") haveId = false;
        if (!skipValue(1)) return finishError();
      }
      skipWs();
      if (pos_ < size_ && data_[pos_] == ',') {
        pos_++;
        continue;
      }
      if (!expect('}')) return finishError();
      break;
    }
  }
  skipWs();
  if (pos_ != size_) {
    fail("unexpected data after the JSON value");
    return finishError();
  }
  if (!haveMembers) {
    *error = "cohort payload has no memberIds array";
    return nullptr;
  }
  if (!haveId) cohort->id.assign(fallbackId);

  MemberSet::Builder builder(memberStrings);
  std::string record;
  if (!forEachMember(membersAt, [&](std::string_view id) {
        MemberSet::encode(id, record);
        builder.count(record, MemberSet::hash(record));
      })) {
    return finishError();
  }
  if (!builder.layout(error)) return nullptr;
  if (!forEachMember(membersAt, [&](std::string_view id) {
        MemberSet::encode(id, record);
        builder.add(record, MemberSet::hash(record));
      })) {
    return finishError();
  }
  cohort->members = builder.finish();
  return cohort;
}

}  // namespace experiment
