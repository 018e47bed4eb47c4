#include "js_string.h"

#include <algorithm>
#include <charconv>
#include <clocale>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <vector>

// Floating-point std::from_chars is missing from older libc++ (Zig 0.11, used
// for the musl prebuilds; older Apple SDKs). Where it is absent, or when
// AEN_NO_FLOAT_FROM_CHARS is defined (to test the fallback), the parses below
// use strtod_l in the C locale instead, which glibc and musl round correctly.
#if !defined(AEN_NO_FLOAT_FROM_CHARS) && defined(__cpp_lib_to_chars) && __cpp_lib_to_chars >= 201611L
#define AEN_FLOAT_FROM_CHARS 1
#else
#define AEN_FLOAT_FROM_CHARS 0
#endif

#if defined(__APPLE__)
#include <xlocale.h>
#else
#include <locale.h>
#endif

namespace experiment {

namespace {
// Writes cp's UTF-8 (lone surrogates: their 3-byte WTF-8 form) at `o`; returns the end.
inline char* writeCodePoint(uint32_t cp, char* o) {
  if (cp < 0x80) {
    *o++ = static_cast<char>(cp);
  } else if (cp < 0x800) {
    *o++ = static_cast<char>(0xC0 | (cp >> 6));
    *o++ = static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    *o++ = static_cast<char>(0xE0 | (cp >> 12));
    *o++ = static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    *o++ = static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    *o++ = static_cast<char>(0xF0 | (cp >> 18));
    *o++ = static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    *o++ = static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    *o++ = static_cast<char>(0x80 | (cp & 0x3F));
  }
  return o;
}
}  // namespace

void appendCodePoint(uint32_t cp, std::string& out) {
  char bytes[4];
  out.append(bytes, static_cast<size_t>(writeCodePoint(cp, bytes) - bytes));
}

size_t appendUtf8Sequence(std::string_view text, size_t pos, std::string& out) {
  const unsigned char lead = static_cast<unsigned char>(text[pos]);
  size_t need;
  unsigned char lo = 0x80, hi = 0xBF;
  if (lead >= 0xC2 && lead <= 0xDF) {
    need = 1;
  } else if (lead >= 0xE0 && lead <= 0xEF) {
    need = 2;
    if (lead == 0xE0) lo = 0xA0;
    if (lead == 0xED) hi = 0x9F;
  } else if (lead >= 0xF0 && lead <= 0xF4) {
    need = 3;
    if (lead == 0xF0) lo = 0x90;
    if (lead == 0xF4) hi = 0x8F;
  } else {
    out.append("\xEF\xBF\xBD");
    return 1;
  }
  size_t i = 1;
  for (; i <= need; i++) {
    if (pos + i >= text.size()) break;
    unsigned char c = static_cast<unsigned char>(text[pos + i]);
    if (c < lo || c > hi) break;
    lo = 0x80;
    hi = 0xBF;
  }
  if (i <= need) {
    // Maximal subpart replaced by one U+FFFD; the offending byte is re-read.
    out.append("\xEF\xBF\xBD");
    return i;
  }
  out.append(text.data() + pos, need + 1);
  return need + 1;
}

namespace {

locale_t cLocale() {
  // Created once, immutable afterwards: safe to share between worker threads.
  static locale_t loc = newlocale(LC_ALL_MASK, "C", static_cast<locale_t>(nullptr));
  return loc;
}

double strtodC(std::string_view token) {
  std::string copy(token);
  return strtod_l(copy.c_str(), nullptr, cLocale());
}

#if !AEN_FLOAT_FROM_CHARS
// Hex digits (no prefix, already validated) to a correctly rounded double;
// overflow gives +Infinity, as strtod returns HUGE_VAL.
double hexDigitsToDouble(std::string_view digits) {
  std::string copy("0x");
  copy.append(digits);
  return strtod_l(copy.c_str(), nullptr, cLocale());
}
#endif

bool isJsWhitespace(uint32_t cp) {
  switch (cp) {
    case 0x09:
    case 0x0A:
    case 0x0B:
    case 0x0C:
    case 0x0D:
    case 0x20:
    case 0xA0:
    case 0x1680:
    case 0x2028:
    case 0x2029:
    case 0x202F:
    case 0x205F:
    case 0x3000:
    case 0xFEFF:
      return true;
    default:
      return cp >= 0x2000 && cp <= 0x200A;
  }
}

// Decodes the code point at s[i] (WTF-8, trusted); returns its length.
size_t decodeAt(std::string_view s, size_t i, uint32_t* cp) {
  unsigned char c = static_cast<unsigned char>(s[i]);
  if (c < 0x80) {
    *cp = c;
    return 1;
  }
  size_t n = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : 2;
  if (i + n > s.size()) {
    *cp = 0xFFFD;
    return 1;
  }
  uint32_t v = c & (n == 2 ? 0x1F : n == 3 ? 0x0F : 0x07);
  for (size_t k = 1; k < n; k++) v = (v << 6) | (static_cast<unsigned char>(s[i + k]) & 0x3F);
  *cp = v;
  return n;
}

double radixToNumber(std::string_view digits, int bitsPerDigit) {
  // Convert base 2/8 digits to hex so from_chars rounds the result correctly.
  std::string bits;
  bits.reserve(digits.size() * bitsPerDigit);
  for (char d : digits) {
    int v = d - '0';
    for (int b = bitsPerDigit - 1; b >= 0; b--) bits.push_back(((v >> b) & 1) ? '1' : '0');
  }
  size_t pad = (4 - bits.size() % 4) % 4;
  bits.insert(0, pad, '0');
  std::string hex;
  for (size_t i = 0; i < bits.size(); i += 4) {
    int v = 0;
    for (int k = 0; k < 4; k++) v = v * 2 + (bits[i + k] - '0');
    hex.push_back("0123456789abcdef"[v]);
  }
#if AEN_FLOAT_FROM_CHARS
  double out = 0;
  auto r = std::from_chars(hex.data(), hex.data() + hex.size(), out, std::chars_format::hex);
  if (r.ec == std::errc::result_out_of_range) return INFINITY;
  return out;
#else
  return hexDigitsToDouble(hex);
#endif
}

}  // namespace

double parseDecimal(std::string_view token) {
  const char* first = token.data();
  const char* last = token.data() + token.size();
  bool negative = false;
  if (first < last && *first == '+')
    first++;
  else if (first < last && *first == '-') {
    negative = true;
    first++;
  }
  double value = 0;
#if AEN_FLOAT_FROM_CHARS
  auto r = std::from_chars(first, last, value, std::chars_format::general);
  if (r.ec == std::errc::result_out_of_range) {
    // libstdc++ reports subnormals as out of range; strtod rounds them right.
    value = std::fabs(strtodC(std::string_view(first, static_cast<size_t>(last - first))));
  } else if (r.ec != std::errc() || r.ptr != last) {
    return NAN;
  }
#else
  // Only plain decimal text: strtod would also take whitespace, a second sign,
  // hex, inf and nan, which from_chars (general) does not.
  if (first == last || !((*first >= '0' && *first <= '9') || *first == '.')) return NAN;
  for (const char* p = first; p < last; p++) {
    char c = *p;
    if (!((c >= '0' && c <= '9') || c == '.' || c == 'e' || c == 'E' || c == '+' || c == '-')) return NAN;
  }
  std::string copy(first, static_cast<size_t>(last - first));
  char* end = nullptr;
  value = strtod_l(copy.c_str(), &end, cLocale());
  if (end != copy.c_str() + copy.size()) return NAN;
  value = std::fabs(value);
#endif
  return negative ? -value : value;
}

double jsStringToNumber(std::string_view s) {
  size_t begin = 0, end = s.size();
  uint32_t cp;
  while (begin < end) {
    size_t n = decodeAt(s, begin, &cp);
    if (!isJsWhitespace(cp)) break;
    begin += n;
  }
  while (end > begin) {
    size_t k = end - 1;
    while (k > begin && (static_cast<unsigned char>(s[k]) & 0xC0) == 0x80) k--;
    decodeAt(s, k, &cp);
    if (!isJsWhitespace(cp)) break;
    end = k;
  }
  std::string_view t = s.substr(begin, end - begin);
  if (t.empty()) return 0;
  if (t.size() > 2 && t[0] == '0') {
    char p = t[1];
    std::string_view digits = t.substr(2);
    auto all = [&](auto pred) { return std::all_of(digits.begin(), digits.end(), pred); };
    if (p == 'x' || p == 'X') {
      if (!all([](char c) { return std::isxdigit(static_cast<unsigned char>(c)) != 0; })) return NAN;
#if AEN_FLOAT_FROM_CHARS
      double out = 0;
      auto r = std::from_chars(digits.data(), digits.data() + digits.size(), out, std::chars_format::hex);
      if (r.ec == std::errc::result_out_of_range) return INFINITY;
      return out;
#else
      return hexDigitsToDouble(digits);
#endif
    }
    if (p == 'o' || p == 'O') {
      if (!all([](char c) { return c >= '0' && c <= '7'; })) return NAN;
      return radixToNumber(digits, 3);
    }
    if (p == 'b' || p == 'B') {
      if (!all([](char c) { return c == '0' || c == '1'; })) return NAN;
      return radixToNumber(digits, 1);
    }
  }
  size_t i = 0;
  bool negative = false;
  if (t[0] == '+' || t[0] == '-') {
    negative = t[0] == '-';
    i = 1;
  }
  std::string_view body = t.substr(i);
  if (body == "Infinity") return negative ? -INFINITY : INFINITY;
  // StrUnsignedDecimalLiteral: digits [. digits] [exp] | . digits [exp]
  size_t k = 0;
  size_t intDigits = 0, fracDigits = 0;
  while (k < body.size() && body[k] >= '0' && body[k] <= '9') k++, intDigits++;
  if (k < body.size() && body[k] == '.') {
    k++;
    while (k < body.size() && body[k] >= '0' && body[k] <= '9') k++, fracDigits++;
  }
  if (intDigits + fracDigits == 0) return NAN;
  if (k < body.size() && (body[k] == 'e' || body[k] == 'E')) {
    k++;
    if (k < body.size() && (body[k] == '+' || body[k] == '-')) k++;
    size_t expDigits = 0;
    while (k < body.size() && body[k] >= '0' && body[k] <= '9') k++, expDigits++;
    if (expDigits == 0) return NAN;
  }
  if (k != body.size()) return NAN;
  // from_chars does not take "5." or ".5" forms in every library; strtod does.
  double value;
  if (body.back() == '.' || body[0] == '.') {
    value = strtodC(body);
  } else {
    value = parseDecimal(body);
  }
  return negative ? -value : value;
}

void appendJsNumber(double value, std::string& out) {
  if (std::isnan(value)) {
    out.append("NaN");
    return;
  }
  if (value == 0) {
    out.push_back('0');
    return;
  }
  if (std::isinf(value)) {
    out.append(value < 0 ? "-Infinity" : "Infinity");
    return;
  }
  if (value < 0) {
    out.push_back('-');
    value = -value;
  }
  // Shortest round-trip digits, then ECMAScript Number::toString layout.
  char buf[64];
  auto r = std::to_chars(buf, buf + sizeof buf, value, std::chars_format::scientific);
  std::string_view sci(buf, static_cast<size_t>(r.ptr - buf));
  size_t ePos = sci.find('e');
  std::string digits;
  for (size_t i = 0; i < ePos; i++) {
    if (sci[i] != '.') digits.push_back(sci[i]);
  }
  int exponent = std::atoi(std::string(sci.substr(ePos + 1)).c_str());
  const int k = static_cast<int>(digits.size());
  const int n = exponent + 1;
  if (k <= n && n <= 21) {
    out.append(digits);
    out.append(static_cast<size_t>(n - k), '0');
  } else if (0 < n && n <= 21) {
    out.append(digits, 0, static_cast<size_t>(n));
    out.push_back('.');
    out.append(digits, static_cast<size_t>(n), std::string::npos);
  } else if (-6 < n && n <= 0) {
    out.append("0.");
    out.append(static_cast<size_t>(-n), '0');
    out.append(digits);
  } else {
    out.push_back(digits[0]);
    if (k > 1) {
      out.push_back('.');
      out.append(digits, 1, std::string::npos);
    }
    out.push_back('e');
    out.push_back(n - 1 >= 0 ? '+' : '-');
    out.append(std::to_string(std::abs(n - 1)));
  }
}

int compareUtf16(std::string_view a, std::string_view b) {
  size_t n = std::min(a.size(), b.size());
  size_t i = 0;
  while (i < n && a[i] == b[i]) i++;
  if (i == n) {
    if (a.size() == b.size()) return 0;
    return a.size() < b.size() ? -1 : 1;
  }
  // Back up to the start of the code point that differs; prefixes are equal.
  while (i > 0 && (static_cast<unsigned char>(a[i]) & 0xC0) == 0x80) i--;
  uint32_t ca, cb;
  decodeAt(a, i, &ca);
  decodeAt(b, i, &cb);
  auto firstUnit = [](uint32_t cp) { return cp < 0x10000 ? cp : 0xD800 + ((cp - 0x10000) >> 10); };
  uint32_t ua = firstUnit(ca), ub = firstUnit(cb);
  if (ua != ub) return ua < ub ? -1 : 1;
  // Same high surrogate: the low surrogates order like the code points.
  return ca < cb ? -1 : 1;
}

bool isAscii(std::string_view s) {
  for (char c : s) {
    if (static_cast<unsigned char>(c) >= 0x80) return false;
  }
  return true;
}

void asciiLower(std::string_view s, std::string& out) {
  out.resize(s.size());
  for (size_t i = 0; i < s.size(); i++) {
    char c = s[i];
    out[i] = (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c;
  }
}

bool latin1Lower(std::string_view s, std::string& out) {
  out.resize(s.size());
  for (size_t i = 0; i < s.size(); i++) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
      out[i] = (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : static_cast<char>(c);
      continue;
    }
    // U+0080..U+00FF is C2 or C3 then one continuation byte; anything else is left to the host.
    if ((c != 0xc2 && c != 0xc3) || i + 1 >= s.size()) return false;
    const auto next = static_cast<unsigned char>(s[i + 1]);
    if ((next & 0xc0) != 0x80) return false;
    const uint32_t cp = ((c & 0x1fu) << 6) | (next & 0x3fu);
    // toLowerCase in this block: U+00C0..U+00DE (but U+00D7) map to +0x20, which stays a C3 sequence.
    const uint32_t lower = (cp >= 0xc0 && cp <= 0xde && cp != 0xd7) ? cp + 0x20 : cp;
    out[i] = static_cast<char>(0xc0 | (lower >> 6));
    out[i + 1] = static_cast<char>(0x80 | (lower & 0x3f));
    i++;
  }
  return true;
}

bool equalsIgnoreAsciiCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); i++) {
    char x = a[i], y = b[i];
    if (x >= 'A' && x <= 'Z') x = static_cast<char>(x + 32);
    if (y >= 'A' && y <= 'Z') y = static_cast<char>(y + 32);
    if (x != y) return false;
  }
  return true;
}

bool isBooleanWord(std::string_view s) { return equalsIgnoreAsciiCase(s, "true") || equalsIgnoreAsciiCase(s, "false"); }

bool isArrayIndex(std::string_view s, uint32_t* index) {
  if (s.empty() || s.size() > 10) return false;
  if (s[0] == '0') {
    if (s.size() != 1) return false;
    *index = 0;
    return true;
  }
  uint64_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
    v = v * 10 + static_cast<uint64_t>(c - '0');
  }
  if (v > 4294967294ull) return false;
  *index = static_cast<uint32_t>(v);
  return true;
}

void appendJsonQuoted(std::string_view s, std::string& out) {
  static const char* hex = "0123456789abcdef";
  out.push_back('"');
  for (size_t i = 0; i < s.size(); i++) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    switch (c) {
      case '"':
        out.append("\\\"");
        continue;
      case '\\':
        out.append("\\\\");
        continue;
      case '\b':
        out.append("\\b");
        continue;
      case '\f':
        out.append("\\f");
        continue;
      case '\n':
        out.append("\\n");
        continue;
      case '\r':
        out.append("\\r");
        continue;
      case '\t':
        out.append("\\t");
        continue;
      default:
        break;
    }
    if (c < 0x20) {
      out.append("\\u00");
      out.push_back(hex[c >> 4]);
      out.push_back(hex[c & 15]);
    } else if (c == 0xED && i + 2 < s.size() && static_cast<unsigned char>(s[i + 1]) >= 0xA0) {
      // A lone surrogate: well-formed JSON.stringify escapes it.
      uint32_t cp = ((c & 0x0F) << 12) | ((static_cast<unsigned char>(s[i + 1]) & 0x3F) << 6) |
                    (static_cast<unsigned char>(s[i + 2]) & 0x3F);
      out.append("\\u");
      out.push_back(hex[(cp >> 12) & 15]);
      out.push_back(hex[(cp >> 8) & 15]);
      out.push_back(hex[(cp >> 4) & 15]);
      out.push_back(hex[cp & 15]);
      i += 2;
    } else {
      out.push_back(static_cast<char>(c));
    }
  }
  out.push_back('"');
}

void appendJsonStringify(const JsonDocument& doc, uint32_t id, std::string& out) {
  const JsonNode& n = doc.node(id);
  switch (n.type) {
    case JsonType::Null:
      out.append("null");
      return;
    case JsonType::True:
      out.append("true");
      return;
    case JsonType::False:
      out.append("false");
      return;
    case JsonType::Number:
      if (std::isfinite(n.number))
        appendJsNumber(n.number, out);
      else
        out.append("null");
      return;
    case JsonType::String:
      appendJsonQuoted(doc.string(id), out);
      return;
    case JsonType::Raw:
      out.append(doc.string(id));
      return;
    case JsonType::Script:
      if (n.jsonUndefined)
        out.append("null");
      else
        out.append(doc.scriptJson(id));
      return;
    case JsonType::Array:
      out.push_back('[');
      for (uint32_t i = 0; i < n.count; i++) {
        if (i) out.push_back(',');
        appendJsonStringify(doc, doc.element(id, i), out);
      }
      out.push_back(']');
      return;
    case JsonType::Object: {
      // Integer-like keys first, ascending; the rest in insertion order.
      std::vector<std::pair<uint32_t, uint32_t>> indexed;
      for (uint32_t i = 0; i < n.count; i++) {
        uint32_t idx;
        if (isArrayIndex(doc.string(doc.memberKey(id, i)), &idx)) indexed.emplace_back(idx, i);
      }
      std::sort(indexed.begin(), indexed.end());
      bool first = true;
      auto member = [&](uint32_t i) {
        if (doc.node(doc.memberValue(id, i)).jsonUndefined) return;  // JSON.stringify leaves it out
        if (!first) out.push_back(',');
        first = false;
        appendJsonQuoted(doc.string(doc.memberKey(id, i)), out);
        out.push_back(':');
        appendJsonStringify(doc, doc.memberValue(id, i), out);
      };
      out.push_back('{');
      for (auto& p : indexed) member(p.second);
      for (uint32_t i = 0; i < n.count; i++) {
        uint32_t idx;
        if (!isArrayIndex(doc.string(doc.memberKey(id, i)), &idx)) member(i);
      }
      out.push_back('}');
      return;
    }
  }
}

void utf16ToWtf8(const std::u16string& in, std::string& out) {
  out.clear();
  appendUtf16AsWtf8(in, out);
}

void appendUtf16AsWtf8(std::u16string_view in, std::string& out) {
  // Written through a pointer into room for the worst case (3 bytes per unit;
  // a surrogate pair takes 4 for 2), four ASCII units per step where it can.
  const size_t base = out.size();
  out.resize(base + 3 * in.size());
  char* o = out.data() + base;
  const char16_t* p = in.data();
  const char16_t* const end = p + in.size();
  while (p < end) {
    if (end - p >= 4) {
      uint64_t units;
      std::memcpy(&units, p, 8);
      if ((units & 0xFF80FF80FF80FF80ull) == 0) {
        o[0] = static_cast<char>(p[0]);
        o[1] = static_cast<char>(p[1]);
        o[2] = static_cast<char>(p[2]);
        o[3] = static_cast<char>(p[3]);
        o += 4;
        p += 4;
        continue;
      }
    }
    uint32_t c = *p++;
    if (c >= 0xD800 && c <= 0xDBFF && p < end && *p >= 0xDC00 && *p <= 0xDFFF) {
      c = 0x10000 + ((c - 0xD800) << 10) + (*p++ - 0xDC00u);
    }
    o = writeCodePoint(c, o);  // lone surrogates too: their 3-byte form (WTF-8)
  }
  out.resize(static_cast<size_t>(o - out.data()));
}

void wtf8ToUtf16(std::string_view s, std::u16string& out) {
  out.clear();
  for (size_t i = 0; i < s.size();) {
    uint32_t cp;
    i += decodeAt(s, i, &cp);
    if (cp >= 0x10000) {
      cp -= 0x10000;
      out.push_back(static_cast<char16_t>(0xD800 + (cp >> 10)));
      out.push_back(static_cast<char16_t>(0xDC00 + (cp & 0x3FF)));
    } else {
      out.push_back(static_cast<char16_t>(cp));
    }
  }
}

}  // namespace experiment
