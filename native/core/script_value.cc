#include "script_value.h"

#include <string_view>
#include <vector>

namespace experiment {

namespace {

void decodeOne(JsonDocument& doc, uint32_t id) {
  std::string_view s = doc.string(id);
  if (s.size() < 2 || s[0] != '\0') return;
  JsonNode& n = doc.mutableNode(id);
  if (s[1] == 'u') {
    n.type = JsonType::Null;
    n.jsonUndefined = true;
    return;
  }
  if (s[1] != 't' && s[1] != 'f') return;
  size_t i = 2;
  size_t jsonLength = 0;
  while (i < s.size() && s[i] >= '0' && s[i] <= '9' && jsonLength <= s.size())
    jsonLength = jsonLength * 10 + (s[i++] - '0');
  if (i >= s.size() || s[i] != ':' || jsonLength > s.size() - i - 1) return;
  i++;
  n.type = JsonType::Script;
  n.scriptTruthy = s[1] == 't';
  n.jsonUndefined = jsonLength == 0;
  n.number = static_cast<double>(jsonLength);
  n.start += static_cast<uint32_t>(i + jsonLength);
  n.count -= static_cast<uint32_t>(i + jsonLength);
}

}  // namespace

void decodeScriptValues(JsonDocument& doc, uint32_t root) {
  if (root == kNoNode) return;
  // Iterative: the user's nesting is bounded by the parser, but no recursion is needed.
  std::vector<uint32_t> todo{root};
  while (!todo.empty()) {
    uint32_t id = todo.back();
    todo.pop_back();
    switch (doc.type(id)) {
      case JsonType::String:
        decodeOne(doc, id);
        break;
      case JsonType::Array:
        for (uint32_t i = 0; i < doc.size(id); i++) todo.push_back(doc.element(id, i));
        break;
      case JsonType::Object:
        for (uint32_t i = 0; i < doc.size(id); i++) todo.push_back(doc.memberValue(id, i));
        break;
      default:
        break;
    }
  }
}

}  // namespace experiment
