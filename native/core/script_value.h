// Values of a JavaScript user that JSON cannot hold (NaN, ±Infinity, functions,
// symbols, BigInt, objects with toJSON such as Date, an explicit undefined).
// The host writes each as a JSON string in a tagged form (src/engine/user-json.ts):
//
//   "\u0000" kind jsonLength ":" json direct
//
// kind 't' / 'f': a value that is truthy / falsy in JavaScript; `json` is what
// JSON.stringify writes for it inside an object or array (empty: nothing, as
// for a function), `direct` is what the reference engine compares when it
// reads the value itself (String(value), or JSON.stringify for objects).
// kind 'u': undefined (no further bytes).
//
// The host sends such a user with a leading '!' (no JSON text starts with it),
// so plain users pay nothing for this.
#pragma once

#include <cstdint>

#include "json_document.h"

namespace experiment {

constexpr char kScriptUserMarker = '!';

// Turns every tagged string in value position under `root` into a Script node
// (or a Null node that JSON.stringify leaves out, for undefined).
void decodeScriptValues(JsonDocument& doc, uint32_t root);

}  // namespace experiment
