#include "snapshot_wrap.h"

#include <algorithm>
#include <string>
#include <vector>

#include "addon_data.h"
#include "js_string.h"

namespace experiment {

Napi::Value toJsString(Napi::Env env, std::string_view value);

namespace {

// Copies a JS string into `buffer`, which lives across calls so that most calls allocate nothing; a string that
// may not have fit is measured and copied again. `get` is napi_get_value_string_utf8 or _utf16.
template <typename Char>
std::basic_string_view<Char> CopyJsString(napi_env env, napi_value value, std::basic_string<Char>& buffer,
                                          size_t initialSize,
                                          napi_status (*get)(napi_env, napi_value, Char*, size_t, size_t*)) {
  if (buffer.size() < initialSize) buffer.resize(initialSize);
  size_t copied = 0;
  get(env, value, buffer.data(), buffer.size(), &copied);
  // The copy may have stopped short of the end: it leaves room for the
  // terminator, and (UTF-8) writes no character that does not fit whole, so
  // up to 4 units of room can be left. Then ask for the length and copy again.
  if (copied + 4 >= buffer.size()) {
    size_t length = 0;
    get(env, value, nullptr, 0, &length);
    buffer.resize(length + 1);
    get(env, value, buffer.data(), buffer.size(), &copied);
  }
  return std::basic_string_view<Char>(buffer.data(), copied);
}

// A user argument starting with this holds slot values, not a user.
constexpr char kSlotValuesMarker = '#';

// Calls back into JavaScript for what only V8 does exactly: RegExp and toLowerCase.
// A worker being terminated (worker.terminate(), process exit) can no longer
// run JavaScript: napi_call_function then fails with no exception pending.
// node-addon-api's Call would try to throw into that env and abort the whole
// process, so the raw call is used and, once the env refuses, no further call
// is made for this evaluation (its answer is never read).
class JsScriptHost : public ScriptHost {
 public:
  JsScriptHost(Napi::Env env, Napi::FunctionReference& regexTest, Napi::FunctionReference& toLowerCase)
      : env_(env), regexTest_(regexTest), toLowerCase_(toLowerCase) {}

  RegexResult regexTest(int32_t regexId, std::string_view subject) override {
    if (regexTest_.IsEmpty() || regexId < 0) return RegexResult::NoMatch;
    napi_value args[2] = {Napi::Number::New(env_, regexId), toJsString(env_, subject)};
    napi_value result = call(regexTest_, 2, args);
    int32_t outcome = 0;
    if (result == nullptr || napi_get_value_int32(env_, result, &outcome) != napi_ok) return RegexResult::NoMatch;
    return outcome == 1 ? RegexResult::Match : outcome == 2 ? RegexResult::GaveUp : RegexResult::NoMatch;
  }

  void toLowerCase(std::string_view text, std::string& out) override {
    napi_value args[1] = {nullptr};
    napi_value result = nullptr;
    if (!toLowerCase_.IsEmpty()) {
      args[0] = toJsString(env_, text);
      result = call(toLowerCase_, 1, args);
    }
    napi_valuetype type = napi_undefined;
    if (result == nullptr || napi_typeof(env_, result, &type) != napi_ok || type != napi_string) {
      asciiLower(text, out);
      return;
    }
    utf16ToWtf8(Napi::String(env_, result).Utf16Value(), out);
  }

 private:
  // The callback's return value, or null when it threw (the exception is
  // dropped: the condition is false, like a failed match) or the env cannot
  // run JavaScript any more.
  napi_value call(Napi::FunctionReference& fn, size_t argc, const napi_value* argv) {
    if (terminating_ || argv[argc - 1] == nullptr) return nullptr;
    napi_value result = nullptr;
    if (napi_call_function(env_, env_.Undefined(), fn.Value(), argc, argv, &result) == napi_ok) return result;
    bool pending = false;
    if (napi_is_exception_pending(env_, &pending) == napi_ok && pending) {
      napi_value ignored;
      napi_get_and_clear_last_exception(env_, &ignored);
    } else {
      terminating_ = true;
    }
    return nullptr;
  }

  Napi::Env env_;
  Napi::FunctionReference& regexTest_;
  Napi::FunctionReference& toLowerCase_;
  bool terminating_ = false;
};

bool hasSurrogate(std::string_view s) {
  for (size_t i = 0; i + 1 < s.size(); i++) {
    if (static_cast<unsigned char>(s[i]) == 0xED && static_cast<unsigned char>(s[i + 1]) >= 0xA0) return true;
  }
  return false;
}

}  // namespace

// napi_create_string_utf16 on Node 20 replaces lone surrogates with U+FFFD,
// so a string holding one crosses as its UTF-16 code units (a Uint16Array)
// and the TypeScript side turns it into a string; everything else is a string.
Napi::Value toJsString(Napi::Env env, std::string_view value) {
  if (!hasSurrogate(value)) return Napi::String::New(env, value.data(), value.size());
  std::u16string utf16;
  wtf8ToUtf16(value, utf16);
  Napi::Uint16Array units = Napi::Uint16Array::New(env, utf16.size());
  std::copy(utf16.begin(), utf16.end(), units.Data());
  return units;
}

namespace {

Napi::Array toStringArray(Napi::Env env, const std::vector<std::string>& values) {
  Napi::Array out = Napi::Array::New(env, values.size());
  for (uint32_t i = 0; i < values.size(); i++) out.Set(i, toJsString(env, values[i]));
  return out;
}

}  // namespace

Napi::Function SnapshotWrap::DefineClass(Napi::Env env) {
  return ObjectWrap<SnapshotWrap>::DefineClass(
      env, "Snapshot",
      {
          InstanceMethod<&SnapshotWrap::RegexPatterns>("regexPatterns"),
          InstanceMethod<&SnapshotWrap::NonAsciiContainsValues>("nonAsciiContainsValues"),
          InstanceMethod<&SnapshotWrap::FinalizeSnapshot>("finalize"),
          InstanceMethod<&SnapshotWrap::Evaluate>("evaluate"),
          InstanceMethod<&SnapshotWrap::EvaluateCells>("evaluateCells"),
          InstanceMethod<&SnapshotWrap::Explain>("explain"),
          InstanceMethod<&SnapshotWrap::ReadSlots>("readSlots"),
      });
}

SnapshotWrap::SnapshotWrap(const Napi::CallbackInfo& info) : ObjectWrap<SnapshotWrap>(info) {
  Napi::Env env = info.Env();
  if (info.Length() >= 1 && info[0].IsExternal()) {
    // From SnapshotParseWorker: already parsed off the main thread.
    snapshot_.reset(info[0].As<Napi::External<Snapshot>>().Data());
    return;
  }
  std::string owned;
  std::string_view payload;
  if (info.Length() >= 1 && info[0].IsTypedArray()) {
    Napi::TypedArray array = info[0].As<Napi::TypedArray>();
    if (array.TypedArrayType() != napi_uint8_array) {
      Napi::TypeError::New(env, "flag payload must be a string or a Uint8Array").ThrowAsJavaScriptException();
      return;
    }
    Napi::Uint8Array bytes = info[0].As<Napi::Uint8Array>();
    payload = std::string_view(reinterpret_cast<const char*>(bytes.Data()), bytes.ByteLength());
  } else if (info.Length() >= 1 && info[0].IsString()) {
    owned = info[0].As<Napi::String>().Utf8Value();
    payload = owned;
  } else {
    Napi::TypeError::New(env, "flag payload must be a string or a Uint8Array").ThrowAsJavaScriptException();
    return;
  }
  snapshot_ = std::make_unique<Snapshot>();
  std::string error;
  if (!snapshot_->parse(payload, error)) {
    snapshot_.reset();
    Napi::Error::New(env, error).ThrowAsJavaScriptException();
  }
}

SnapshotWrap::~SnapshotWrap() = default;

Napi::Value SnapshotWrap::RegexPatterns(const Napi::CallbackInfo& info) {
  if (!snapshot_) return info.Env().Undefined();
  return toStringArray(info.Env(), snapshot_->regexPatterns());
}

Napi::Value SnapshotWrap::NonAsciiContainsValues(const Napi::CallbackInfo& info) {
  if (!snapshot_) return info.Env().Undefined();
  return toStringArray(info.Env(), snapshot_->nonAsciiContainsValues());
}

// finalize(invalidRegexes: [id, message][], lowered: string[], regexTest, toLowerCase)
//   -> { keys, rejected, resultBase, variantKeys }
Napi::Value SnapshotWrap::FinalizeSnapshot(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!snapshot_ || finalized_) {
    Napi::Error::New(env, "snapshot is not in a state to finalize").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  if (info.Length() < 4 || !info[0].IsArray() || !info[1].IsArray() || !info[2].IsFunction() || !info[3].IsFunction()) {
    Napi::TypeError::New(env, "finalize(invalidRegexes, lowered, regexTest, toLowerCase)").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  std::vector<std::pair<int32_t, std::string>> invalid;
  Napi::Array bad = info[0].As<Napi::Array>();
  for (uint32_t i = 0; i < bad.Length(); i++) {
    Napi::Value entry = bad.Get(i);
    if (!entry.IsArray()) continue;
    Napi::Array pair = entry.As<Napi::Array>();
    invalid.emplace_back(pair.Get(0u).ToNumber().Int32Value(), pair.Get(1u).ToString().Utf8Value());
  }
  std::vector<std::string> lowered;
  Napi::Array low = info[1].As<Napi::Array>();
  std::string buffer;
  for (uint32_t i = 0; i < low.Length(); i++) {
    utf16ToWtf8(low.Get(i).ToString().Utf16Value(), buffer);
    lowered.push_back(buffer);
  }
  // Weak references, kept alive by hidden properties of this wrapper's own
  // JS object. A strong (Persistent) reference is a GC root, and these
  // closures reach the JS object that owns the wrapper (native-engine.ts's
  // closures capture `this`, which holds the handle): the cycle through the
  // root kept every snapshot alive forever (scripts/soak.js: ~17 KB of heap
  // and the native Snapshot per swap). The property edge makes the cycle
  // collectable; while the wrapper is alive, so are the functions.
  Napi::Object self = info.This().As<Napi::Object>();
  self.DefineProperties({
      Napi::PropertyDescriptor::Value("__experimentRegexTest", info[2], napi_default),
      Napi::PropertyDescriptor::Value("__experimentToLowerCase", info[3], napi_default),
  });
  regexTest_ = Napi::Weak(info[2].As<Napi::Function>());
  toLowerCase_ = Napi::Weak(info[3].As<Napi::Function>());
  snapshot_->finalize(invalid, lowered);
  finalized_ = true;

  const auto& flags = snapshot_->flags();
  Napi::Object out = Napi::Object::New(env);
  Napi::Array keys = Napi::Array::New(env, flags.size());
  Napi::Array variantKeys = Napi::Array::New(env, flags.size());
  Napi::Array segmentCounts = Napi::Array::New(env, flags.size());
  Napi::Array resultBase = Napi::Array::New(env, flags.size());
  Napi::Array payloadIndex = Napi::Array::New(env, flags.size());
  for (uint32_t i = 0; i < flags.size(); i++) {
    keys.Set(i, toJsString(env, flags[i].key));
    variantKeys.Set(i, toStringArray(env, flags[i].variantKeys));
    segmentCounts.Set(i, Napi::Number::New(env, static_cast<double>(flags[i].segments.size())));
    resultBase.Set(i, Napi::Number::New(env, flags[i].resultBase));
    payloadIndex.Set(i, Napi::Number::New(env, flags[i].payloadIndex));
  }
  Napi::Array rejected = Napi::Array::New(env, snapshot_->rejected().size());
  for (uint32_t i = 0; i < snapshot_->rejected().size(); i++) {
    Napi::Object r = Napi::Object::New(env);
    r.Set("flagKey", toJsString(env, snapshot_->rejected()[i].key));
    r.Set("reason", toJsString(env, snapshot_->rejected()[i].reason));
    rejected.Set(i, r);
  }
  out.Set("keys", keys);
  out.Set("variantKeys", variantKeys);
  out.Set("segmentCounts", segmentCounts);
  out.Set("resultBase", resultBase);
  out.Set("payloadIndex", payloadIndex);
  // Each flag's JSON text in the payload bytes (start, length), so the host
  // parses a flag's JSON only when it needs its variants; and the flags with
  // cohort filters.
  Napi::Array payloadSpans = Napi::Array::New(env, 2 * flags.size());
  Napi::Array cohortFlags = Napi::Array::New(env);
  for (uint32_t i = 0; i < flags.size(); i++) {
    payloadSpans.Set(2 * i, Napi::Number::New(env, static_cast<double>(flags[i].payloadStart)));
    payloadSpans.Set(2 * i + 1, Napi::Number::New(env, static_cast<double>(flags[i].payloadLength)));
    if (flags[i].readsCohorts) cohortFlags.Set(cohortFlags.Length(), Napi::Number::New(env, i));
  }
  out.Set("payloadSpans", payloadSpans);
  out.Set("cohortFlags", cohortFlags);
  const auto& allOrder = snapshot_->allOrder();
  Napi::Array order = Napi::Array::New(env, allOrder.size());
  for (uint32_t i = 0; i < allOrder.size(); i++) order.Set(i, Napi::Number::New(env, allOrder[i]));
  out.Set("order", order);
  out.Set("resultCount", Napi::Number::New(env, snapshot_->resultCount()));
  out.Set("rejected", rejected);

  // Shared buffers for the hot path: flag indices in, (flag, result) pairs out.
  const size_t n = flags.size();
  Napi::Int32Array output = Napi::Int32Array::New(env, 2 * n + 2);
  Napi::Int32Array keyBuffer = Napi::Int32Array::New(env, n + 1);
  outputData_ = output.Data();
  outputCapacity_ = static_cast<uint32_t>(n + 1);
  keysData_ = keyBuffer.Data();
  keysCapacity_ = static_cast<uint32_t>(n + 1);
  output_ = Napi::Persistent(output);
  keys_ = Napi::Persistent(keyBuffer);
  out.Set("output", output);
  out.Set("input", keyBuffer);
  // Slot values as (kind, x) pairs for evaluateCells (Evaluator::setSlotCells):
  // room for every slot's value and a few hundred array elements.
  const size_t pairs = 2 * static_cast<size_t>(snapshot_->selectorSlots()) + 256;
  Napi::Float64Array cells = Napi::Float64Array::New(env, 2 * pairs);
  cellsData_ = cells.Data();
  cellsCapacity_ = static_cast<uint32_t>(pairs);
  cells_ = Napi::Persistent(cells);
  out.Set("cells", cells);
  // The context slot trie (Snapshot::slotParent/slotKey), for the host's
  // reader of slot values.
  Napi::Array slotParents = Napi::Array::New(env, snapshot_->selectorSlots());
  Napi::Array slotKeys = Napi::Array::New(env, snapshot_->selectorSlots());
  for (uint32_t i = 0; i < snapshot_->selectorSlots(); i++) {
    slotParents.Set(i, Napi::Number::New(env, snapshot_->slotParent(i)));
    slotKeys.Set(i, toJsString(env, snapshot_->slotKey(i)));
  }
  out.Set("slotParents", slotParents);
  out.Set("slotKeys", slotKeys);
  return out;
}

// Shared by evaluate() and explain(): checks the snapshot is ready, copies the
// user JSON into this env's buffer (the parsed user borrows from it), hands it
// to this env's evaluator and reads which flags were asked for. Null after
// throwing.
Evaluator* SnapshotWrap::BeginCall(const Napi::CallbackInfo& info, const int32_t** keys, uint32_t* count) {
  Napi::Env env = info.Env();
  if (!snapshot_ || !finalized_) {
    Napi::Error::New(env, "snapshot is not finalized").ThrowAsJavaScriptException();
    return nullptr;
  }
  AddonData* data = env.GetInstanceData<AddonData>();
  std::string& buffer = data->userBuffer;
  std::string_view user;
  if (info.Length() >= 1 && info[0].IsString()) {
    user = CopyJsString(env, info[0], buffer, 1024, napi_get_value_string_utf8);
  }
  const int32_t keyCount = info.Length() >= 2 ? info[1].As<Napi::Number>().Int32Value() : -1;
  if (keyCount >= 0) {
    *keys = keysData_;
    *count = std::min(static_cast<uint32_t>(keyCount), keysCapacity_);
  }
  if (!user.empty() && user[0] == kSlotValuesMarker) {
    // Just the values of the slots the requested flags read (one flag, or
    // all): see Snapshot::readSlots and src/engine/slot-values.ts.
    user.remove_prefix(1);
    static const std::vector<int32_t> kNone;
    const std::vector<int32_t>* slots = &kNone;
    if (keyCount < 0) {
      slots = &snapshot_->allReadSlots();
    } else if (*count == 1 && keysData_[0] >= 0 && static_cast<size_t>(keysData_[0]) < snapshot_->flags().size()) {
      slots = &snapshot_->readSlots(static_cast<uint32_t>(keysData_[0]));
    }
    data->evaluator.setSlotValues(user, *slots);
  } else {
    data->evaluator.setUser(user);
  }
  return &data->evaluator;
}

// readSlots(flag: number) -> the context slots flag's dependency closure reads
// (flag < 0: every flag), -1 for the whole context; see Snapshot::readSlots.
Napi::Value SnapshotWrap::ReadSlots(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!snapshot_ || !finalized_ || info.Length() < 1 || !info[0].IsNumber()) {
    Napi::TypeError::New(env, "readSlots(flag) on a finalized snapshot").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  const int32_t flag = info[0].As<Napi::Number>().Int32Value();
  if (flag >= 0 && static_cast<size_t>(flag) >= snapshot_->flags().size()) return env.Undefined();
  const auto& slots = flag < 0 ? snapshot_->allReadSlots() : snapshot_->readSlots(static_cast<uint32_t>(flag));
  Napi::Array out = Napi::Array::New(env, slots.size());
  for (uint32_t i = 0; i < slots.size(); i++) out.Set(i, Napi::Number::New(env, slots[i]));
  return out;
}

// evaluate(userJson: string, keyCount: number) -> entries written to output.
// keyCount < 0 evaluates every flag; otherwise the first keyCount indices of
// the input buffer are the requested flags.
Napi::Value SnapshotWrap::Evaluate(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const int32_t* keys = nullptr;
  uint32_t count = 0;
  Evaluator* evaluator = BeginCall(info, &keys, &count);
  if (evaluator == nullptr) return env.Undefined();
  JsScriptHost host(env, regexTest_, toLowerCase_);
  uint32_t written = evaluator->evaluate(*snapshot_, host, keys, count, {outputData_, outputCapacity_});
  return Napi::Number::New(env, written);
}

// evaluateCells(text: string, keyCount: number, pairCount: number) -> entries written to output, as
// evaluate(); the user is the slot values of all flags (keyCount < 0) or of the one requested flag
// (keyCount 1), written into the shared cells array (Evaluator::setSlotCells), their strings in `text`.
Napi::Value SnapshotWrap::EvaluateCells(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!snapshot_ || !finalized_) {
    Napi::Error::New(env, "snapshot is not finalized").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  if (info.Length() < 3 || !info[0].IsString()) {
    Napi::TypeError::New(env, "evaluateCells(text, keyCount, pairCount)").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  const int32_t keyCount = info[1].As<Napi::Number>().Int32Value();
  const std::vector<int32_t>* slots = nullptr;
  const int32_t* keys = nullptr;
  uint32_t count = 0;
  if (keyCount < 0) {
    slots = &snapshot_->allReadSlots();
  } else if (keyCount == 1 && keysData_[0] >= 0 && static_cast<size_t>(keysData_[0]) < snapshot_->flags().size()) {
    slots = &snapshot_->readSlots(static_cast<uint32_t>(keysData_[0]));
    keys = keysData_;
    count = 1;
  } else {
    Napi::TypeError::New(env, "evaluateCells takes all flags or one known flag").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  const double pairArg = info[2].As<Napi::Number>().DoubleValue();
  const uint32_t pairs =
      pairArg > 0 ? static_cast<uint32_t>(std::min(pairArg, static_cast<double>(cellsCapacity_))) : 0;
  AddonData* data = env.GetInstanceData<AddonData>();
  std::u16string& buffer = data->cellText;
  data->evaluator.setSlotCells(cellsData_, pairs, CopyJsString(env, info[0], buffer, 512, napi_get_value_string_utf16),
                               *slots);
  JsScriptHost host(env, regexTest_, toLowerCase_);
  uint32_t written = data->evaluator.evaluate(*snapshot_, host, keys, count, {outputData_, outputCapacity_});
  return Napi::Number::New(env, written);
}

// explain(userJson: string, keyCount: number) -> JSON text (see evaluator_explain.cc): the trace behind
// evaluateV2Details. Same inputs as evaluate(); a separate entry point so evaluate() pays nothing for it.
Napi::Value SnapshotWrap::Explain(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const int32_t* keys = nullptr;
  uint32_t count = 0;
  Evaluator* evaluator = BeginCall(info, &keys, &count);
  if (evaluator == nullptr) return env.Undefined();
  JsScriptHost host(env, regexTest_, toLowerCase_);
  std::string json;
  evaluator->explain(*snapshot_, host, keys, count, json);
  return toJsString(env, json);
}

}  // namespace experiment
