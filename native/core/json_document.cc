#include "json_document.h"

namespace experiment {

void JsonDocument::clear() {
  nodes_.clear();
  kids_.clear();
  strings_.clear();
  borrowed_ = std::string_view();
}

uint32_t JsonDocument::addBorrowedString(size_t offset, size_t length) {
  JsonNode n;
  n.type = JsonType::String;
  n.start = static_cast<uint32_t>(offset);
  n.count = static_cast<uint32_t>(length);
  n.borrowed = true;
  nodes_.push_back(n);
  return static_cast<uint32_t>(nodes_.size() - 1);
}

uint32_t JsonDocument::addNull() {
  nodes_.push_back(JsonNode{});
  return static_cast<uint32_t>(nodes_.size() - 1);
}

uint32_t JsonDocument::addBool(bool value) {
  JsonNode n;
  n.type = value ? JsonType::True : JsonType::False;
  nodes_.push_back(n);
  return static_cast<uint32_t>(nodes_.size() - 1);
}

uint32_t JsonDocument::addNumber(double value) {
  JsonNode n;
  n.type = JsonType::Number;
  n.number = value;
  nodes_.push_back(n);
  return static_cast<uint32_t>(nodes_.size() - 1);
}

uint32_t JsonDocument::addString(std::string_view bytes) {
  JsonNode n;
  n.type = JsonType::String;
  n.start = static_cast<uint32_t>(strings_.size());
  n.count = static_cast<uint32_t>(bytes.size());
  strings_.append(bytes.data(), bytes.size());
  nodes_.push_back(n);
  return static_cast<uint32_t>(nodes_.size() - 1);
}

uint32_t JsonDocument::addArenaString(size_t start) {
  JsonNode n;
  n.type = JsonType::String;
  n.start = static_cast<uint32_t>(start);
  n.count = static_cast<uint32_t>(strings_.size() - start);
  nodes_.push_back(n);
  return static_cast<uint32_t>(nodes_.size() - 1);
}

uint32_t JsonDocument::addRaw(std::string_view text, bool isArray) {
  uint32_t id = addString(text);
  nodes_[id].type = JsonType::Raw;
  nodes_[id].rawIsArray = isArray;
  return id;
}

uint32_t JsonDocument::addArray(const uint32_t* kids, uint32_t count) {
  JsonNode n;
  n.type = JsonType::Array;
  n.start = static_cast<uint32_t>(kids_.size());
  n.count = count;
  kids_.insert(kids_.end(), kids, kids + count);
  nodes_.push_back(n);
  return static_cast<uint32_t>(nodes_.size() - 1);
}

uint32_t JsonDocument::addObject(const uint32_t* kidPairs, uint32_t memberCount) {
  JsonNode n;
  n.type = JsonType::Object;
  n.start = static_cast<uint32_t>(kids_.size());
  n.count = memberCount;
  kids_.insert(kids_.end(), kidPairs, kidPairs + 2 * static_cast<size_t>(memberCount));
  nodes_.push_back(n);
  return static_cast<uint32_t>(nodes_.size() - 1);
}

uint32_t JsonDocument::find(uint32_t objectId, std::string_view key) const {
  const JsonNode& n = nodes_[objectId];
  const uint32_t* pairs = kids_.data() + n.start;
  for (uint32_t i = 0; i < n.count; i++) {
    if (string(pairs[2 * i]) == key) return pairs[2 * i + 1];
  }
  return kNoNode;
}

}  // namespace experiment
