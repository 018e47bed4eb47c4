// JavaScript string and number semantics over WTF-8 byte strings: what the
// reference engine gets from String(n), Number(s), `<` on strings,
// toLowerCase() (ASCII part) and JSON.stringify.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "json_document.h"

namespace experiment {

// Appends a code point as UTF-8; surrogate code points get their 3-byte form.
void appendCodePoint(uint32_t cp, std::string& out);
// Decodes one UTF-8 sequence at text[pos] (a byte >= 0x80) like the WHATWG
// decoder: a valid sequence is copied, an invalid one becomes U+FFFD.
// Returns the number of bytes consumed.
size_t appendUtf8Sequence(std::string_view text, size_t pos, std::string& out);

// A validated JSON number token to a double, correctly rounded (overflow to
// +-Infinity, underflow to +-0), like JSON.parse.
double parseDecimal(std::string_view token);
// JavaScript Number(string).
double jsStringToNumber(std::string_view s);
// JavaScript String(number), appended.
void appendJsNumber(double value, std::string& out);

// JavaScript `<` on strings: UTF-16 code unit order. Returns <0, 0, >0.
int compareUtf16(std::string_view a, std::string_view b);

bool isAscii(std::string_view s);
void asciiLower(std::string_view s, std::string& out);
// toLowerCase() of a string of ASCII and U+0080..U+00FF only (false, out
// unspecified, for anything else: the host lower-cases those).
bool latin1Lower(std::string_view s, std::string& out);
// "true" or "false" in any ASCII case (what toLowerCase() === 'true' | 'false' tests).
bool isBooleanWord(std::string_view s);
bool equalsIgnoreAsciiCase(std::string_view a, std::string_view b);

// A canonical array index ("0", "17"; not "01", "-0", "4294967295").
bool isArrayIndex(std::string_view s, uint32_t* index);

// JSON.stringify(value) for a node, with JavaScript key order (integer-like
// keys ascending first, then insertion order) and number formatting.
void appendJsonStringify(const JsonDocument& doc, uint32_t id, std::string& out);
void appendJsonQuoted(std::string_view s, std::string& out);

// Converts WTF-8 to UTF-16 code units (for handing strings back to V8 exactly).
void wtf8ToUtf16(std::string_view s, std::u16string& out);
// UTF-16 from V8 to WTF-8: pairs become 4-byte UTF-8, lone surrogates keep
// their 3-byte form (the bytes the reference engine hashes).
void utf16ToWtf8(const std::u16string& in, std::string& out);
// The same, appended to `out`.
void appendUtf16AsWtf8(std::u16string_view in, std::string& out);

}  // namespace experiment
