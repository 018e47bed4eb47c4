#include "member_set.h"

#include <cstring>

namespace experiment {

namespace {

constexpr uint8_t kLongTag = 0xFE;
constexpr uint8_t kUuidTag = 0xFF;

inline int hexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;  // uppercase is a different id: not packed
}

// A lowercase canonical UUID packed into 16 bytes, or false.
bool packUuid(std::string_view s, uint8_t* out) {
  if (s.size() != 36 || s[8] != '-' || s[13] != '-' || s[18] != '-' || s[23] != '-') return false;
  size_t o = 0;
  for (size_t i = 0; i < 36;) {
    if (i == 8 || i == 13 || i == 18 || i == 23) {
      i++;
      continue;
    }
    int hi = hexValue(s[i]);
    int lo = hexValue(s[i + 1]);
    if (hi < 0 || lo < 0) return false;
    out[o++] = static_cast<uint8_t>((hi << 4) | lo);
    i += 2;
  }
  return true;
}

inline uint64_t load64(const uint8_t* p) {
  uint64_t v;
  std::memcpy(&v, p, 8);
  return v;
}

inline uint64_t mix(uint64_t a, uint64_t b) {
  __uint128_t r = static_cast<__uint128_t>(a) * b;
  return static_cast<uint64_t>(r) ^ static_cast<uint64_t>(r >> 64);
}

inline size_t recordLength(const uint8_t* p) {
  uint8_t tag = p[0];
  if (tag < 0x80) return 1u + tag;
  if (tag == kUuidTag) return 17;
  uint32_t len;
  std::memcpy(&len, p + 1, 4);
  return 5u + len;
}

}  // namespace

void MemberSet::encode(std::string_view id, std::string& out) {
  out.clear();
  uint8_t packed[16];
  if (packUuid(id, packed)) {
    out.push_back(static_cast<char>(kUuidTag));
    out.append(reinterpret_cast<const char*>(packed), 16);
    return;
  }
  if (id.size() < 0x80) {
    out.push_back(static_cast<char>(id.size()));
  } else {
    out.push_back(static_cast<char>(kLongTag));
    uint32_t len = static_cast<uint32_t>(id.size());
    out.append(reinterpret_cast<const char*>(&len), 4);
  }
  out.append(id);
}

uint64_t MemberSet::hash(std::string_view record) {
  // wyhash-style: 64x64->128 multiply-fold over 8-byte words.
  const uint8_t* p = reinterpret_cast<const uint8_t*>(record.data());
  size_t n = record.size();
  uint64_t h = 0x9E3779B97F4A7C15ull ^ (n * 0xA0761D6478BD642Full);
  while (n >= 16) {
    h = mix(load64(p) ^ 0xE7037ED1A0B428DBull, load64(p + 8) ^ h);
    p += 16;
    n -= 16;
  }
  if (n >= 8) {
    h = mix(load64(p) ^ 0x8EBC6AF09C88C6E3ull, h ^ 0x589965CC75374CC3ull);
    p += 8;
    n -= 8;
  }
  uint64_t tail = 0;
  for (size_t i = 0; i < n; i++) tail |= static_cast<uint64_t>(p[i]) << (8 * i);
  h = mix(tail ^ 0x1D8E4E27C47D124Full, h ^ 0xA0761D6478BD642Full);
  return mix(h, 0x9E3779B97F4A7C15ull);
}

size_t MemberSet::bucketOf(uint64_t h) const { return bits_ == 0 ? 0 : static_cast<size_t>(h >> (64 - bits_)); }

bool MemberSet::contains(std::string_view record, uint64_t recordHash) const {
  if (count_ == 0) return false;
  size_t b = bucketOf(recordHash);
  const uint8_t* p = arena_.data() + start_[b];
  const uint8_t* end = arena_.data() + start_[b + 1];
  const size_t want = record.size();
  const uint8_t first = static_cast<uint8_t>(record[0]);
  while (p < end) {
    size_t len = recordLength(p);
    if (len == want && p[0] == first && std::memcmp(p, record.data(), len) == 0) return true;
    p += len;
  }
  return false;
}

bool MemberSet::containsId(std::string_view id) const {
  std::string record;
  encode(id, record);
  return contains(record, hash(record));
}

size_t MemberSet::memoryBytes() const { return arena_.capacity() + start_.capacity() * sizeof(uint32_t); }

// ---- Builder ----

MemberSet::Builder::Builder(size_t expected) {
  // About four records per bucket: a lookup reads one or two cache lines.
  size_t target = expected / 4;
  while (bits_ < 40 && (size_t{1} << bits_) < target) bits_++;
  bucketBytes_.assign(size_t{1} << bits_, 0);
}

size_t MemberSet::Builder::bucketOf(uint64_t h) const {
  return bits_ == 0 ? 0 : static_cast<size_t>(h >> (64 - bits_));
}

void MemberSet::Builder::count(std::string_view record, uint64_t recordHash) {
  bucketBytes_[bucketOf(recordHash)] += record.size();
}

bool MemberSet::Builder::layout(std::string* error) {
  const size_t buckets = bucketBytes_.size();
  start_.resize(buckets + 1);
  uint64_t total = 0;
  for (size_t b = 0; b < buckets; b++) {
    start_[b] = static_cast<uint32_t>(total);
    total += bucketBytes_[b];
    if (total > 0xFFFFFFFFull) {
      *error = "cohort too large for the native store (more than 4 GiB of member ids)";
      return false;
    }
  }
  start_[buckets] = static_cast<uint32_t>(total);
  std::vector<uint64_t>().swap(bucketBytes_);
  cursor_.assign(start_.begin(), start_.end() - 1);
  arena_.resize(static_cast<size_t>(total));
  return true;
}

void MemberSet::Builder::add(std::string_view record, uint64_t recordHash) {
  size_t b = bucketOf(recordHash);
  uint8_t* base = arena_.data();
  const uint8_t* p = base + start_[b];
  const uint8_t* end = base + cursor_[b];
  while (p < end) {
    size_t len = recordLength(p);
    if (len == record.size() && std::memcmp(p, record.data(), len) == 0) {
      duplicates_++;
      return;
    }
    p += len;
  }
  std::memcpy(base + cursor_[b], record.data(), record.size());
  cursor_[b] += static_cast<uint32_t>(record.size());
  count_++;
}

MemberSet MemberSet::Builder::finish() {
  MemberSet set;
  set.bits_ = bits_;
  set.count_ = count_;
  const size_t buckets = cursor_.size();
  if (duplicates_ > 0) {
    // Close the gaps duplicates left at the end of their buckets.
    uint32_t write = 0;
    for (size_t b = 0; b < buckets; b++) {
      uint32_t from = start_[b];
      uint32_t len = cursor_[b] - from;
      if (write != from && len > 0) std::memmove(arena_.data() + write, arena_.data() + from, len);
      start_[b] = write;
      write += len;
    }
    start_[buckets] = write;
    arena_.resize(write);
    arena_.shrink_to_fit();
  }
  set.start_ = std::move(start_);
  set.arena_ = std::move(arena_);
  std::vector<uint32_t>().swap(cursor_);
  return set;
}

}  // namespace experiment
