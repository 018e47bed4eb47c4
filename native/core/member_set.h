// The members of one cohort: an immutable, compact hashed set of member ids.
//
// Layout: one arena of records grouped by hash bucket, plus one uint32 start
// offset per bucket (about n/4 buckets). A record is a member id's exact
// bytes, encoded:
//   0x00..0x7F  L      then L bytes            (ids up to 127 bytes)
//   0xFE        u32 L  then L bytes            (longer ids)
//   0xFF        16 bytes                       (a lowercase canonical UUID,
//                                               "8-4-4-4-12" hex, packed)
// A lookup hashes the encoded query, picks the bucket and compares records
// byte for byte: exact, never a hash-only match. A 36-character UUID costs
// 17 bytes plus about 1 byte of bucket index; other ids cost their length
// plus 1 to 5 bytes.
//
// Built in two passes over the ids (count bytes per bucket, then write),
// so the arena is allocated once at its exact size; duplicates are dropped.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace experiment {

class MemberSet {
 public:
  MemberSet() = default;
  MemberSet(MemberSet&&) = default;
  MemberSet& operator=(MemberSet&&) = default;
  MemberSet(const MemberSet&) = delete;
  MemberSet& operator=(const MemberSet&) = delete;

  // Encodes a member id (UTF-8 / WTF-8 bytes) as a record into `out` (cleared first).
  static void encode(std::string_view id, std::string& out);
  // Hash of an encoded record.
  static uint64_t hash(std::string_view record);

  // Is the encoded record (with its hash) a member?
  bool contains(std::string_view record, uint64_t recordHash) const;
  // Convenience: encode and look up a raw id.
  bool containsId(std::string_view id) const;

  size_t size() const { return count_; }
  // Bytes owned (arena + bucket index), for memory accounting.
  size_t memoryBytes() const;

  // Two-pass construction: count() every record, layout(), add() every record
  // again (same order or not), finish().
  class Builder {
   public:
    // `expected` is the number of ids (duplicates included).
    explicit Builder(size_t expected);
    void count(std::string_view record, uint64_t recordHash);
    // Allocates the arena. False (with a message) when it cannot be represented.
    bool layout(std::string* error);
    void add(std::string_view record, uint64_t recordHash);
    MemberSet finish();

   private:
    size_t bucketOf(uint64_t h) const;
    uint32_t bits_ = 0;
    std::vector<uint64_t> bucketBytes_;
    std::vector<uint32_t> start_;
    std::vector<uint32_t> cursor_;
    std::vector<uint8_t> arena_;
    size_t count_ = 0;
    size_t duplicates_ = 0;
  };

 private:
  size_t bucketOf(uint64_t h) const;
  uint32_t bits_ = 0;
  // bucket b holds arena_[start_[b], start_[b + 1]).
  std::vector<uint32_t> start_;
  std::vector<uint8_t> arena_;
  size_t count_ = 0;
};

}  // namespace experiment
