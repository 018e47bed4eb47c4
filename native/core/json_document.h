// A compact, arena-backed JSON document with JavaScript (JSON.parse) semantics.
//
// Strings are stored as WTF-8: valid UTF-8, except that an unpaired UTF-16
// surrogate (which JS strings may hold) is kept as its 3-byte encoding. That is
// exactly the byte sequence @amplitude/experiment-core hashes, so bucketing on
// such strings agrees with the reference engine.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace experiment {

// Script: a JavaScript value JSON cannot hold (NaN, a function, a Date...),
// described by the host (see script_value.h).
enum class JsonType : uint8_t { Null, False, True, Number, String, Array, Object, Raw, Script };

struct JsonNode {
  JsonType type = JsonType::Null;
  // String/Raw: byte offset and length in the string arena.
  // Array: offset into `kids` and element count.
  // Object: offset into `kids` (key node, value node pairs) and member count.
  uint32_t start = 0;
  uint32_t count = 0;
  double number = 0;
  // Raw nodes (nesting past the depth limit) remember whether they are arrays.
  bool rawIsArray = false;
  // String/Raw bytes live in the borrowed input text, not the arena.
  bool borrowed = false;
  // Script: is the value truthy in JavaScript.
  bool scriptTruthy = false;
  // JSON.stringify leaves the value out of an object (and writes null in an
  // array): undefined, functions, symbols.
  bool jsonUndefined = false;
};

constexpr uint32_t kNoNode = 0xffffffffu;

class JsonDocument {
 public:
  void clear();

  uint32_t addNull();
  uint32_t addBool(bool value);
  uint32_t addNumber(double value);
  uint32_t addString(std::string_view bytes);
  // Kids are node ids; for objects they alternate key (string node), value.
  uint32_t addArray(const uint32_t* kids, uint32_t count);
  uint32_t addObject(const uint32_t* kidPairs, uint32_t memberCount);
  uint32_t addRaw(std::string_view text, bool isArray);
  // For writing a string in place: append its bytes to stringArena(), then
  // addArenaString(the arena's size before) makes the node.
  std::string& stringArena() { return strings_; }
  uint32_t addArenaString(size_t start);
  // A string that is a slice of the borrowed input (see borrow()).
  uint32_t addBorrowedString(size_t offset, size_t length);
  // Lets string nodes point into `input` instead of copying it; the input
  // must outlive the document's current contents (until clear()).
  void borrow(std::string_view input) { borrowed_ = input; }

  const JsonNode& node(uint32_t id) const { return nodes_[id]; }
  JsonType type(uint32_t id) const { return nodes_[id].type; }
  std::string_view string(uint32_t id) const {
    const JsonNode& n = nodes_[id];
    return std::string_view((n.borrowed ? borrowed_.data() : strings_.data()) + n.start, n.count);
  }
  uint32_t size(uint32_t id) const { return nodes_[id].count; }
  uint32_t element(uint32_t id, uint32_t index) const { return kids_[nodes_[id].start + index]; }
  uint32_t memberKey(uint32_t id, uint32_t index) const { return kids_[nodes_[id].start + 2 * index]; }
  uint32_t memberValue(uint32_t id, uint32_t index) const { return kids_[nodes_[id].start + 2 * index + 1]; }
  // Script nodes: the JSON.stringify text (empty when jsonUndefined); string()
  // is String(value), what the reference compares.
  std::string_view scriptJson(uint32_t id) const {
    const JsonNode& n = nodes_[id];
    const size_t length = static_cast<size_t>(n.number);
    return std::string_view((n.borrowed ? borrowed_.data() : strings_.data()) + n.start - length, length);
  }
  JsonNode& mutableNode(uint32_t id) { return nodes_[id]; }
  // Own property lookup; kNoNode when absent.
  uint32_t find(uint32_t objectId, std::string_view key) const;

  size_t nodeCount() const { return nodes_.size(); }

 private:
  std::vector<JsonNode> nodes_;
  std::vector<uint32_t> kids_;
  std::string strings_;
  std::string_view borrowed_;
};

}  // namespace experiment
