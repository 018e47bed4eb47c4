// Parses a cohort download (`GET /sdk/v1/cohort/{id}` 200 body:
// {cohortId, groupType, groupTypeId, lastComputed, lastModified, size,
// memberIds: string[]}) straight from the response bytes into a Cohort.
// Member ids never become individual strings: each one is decoded into a
// scratch buffer (or viewed in place when it has no escapes), encoded and
// written into the MemberSet arena. Strict JSON, as JSON.parse: a body
// JSON.parse would reject is rejected. Runs on a worker thread; touches no
// JavaScript state.
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>

#include "cohort_store.h"

namespace experiment {

class CohortParser {
 public:
  CohortParser(const char* data, size_t size) : data_(data), size_(size) {}

  // The cohort, or null with `error` set. `fallbackId` names the cohort when
  // the body has no string cohortId.
  std::unique_ptr<Cohort> parse(std::string_view fallbackId, std::string* error);

 private:
  bool fail(const char* message);
  void skipWs();
  bool expect(char c);
  // Reads a string at pos_ (on '"'). `view` points into the input when the
  // string has no escapes and is ASCII; otherwise into `scratch`.
  bool readString(std::string& scratch, std::string_view& view);
  bool readNumber(double& out);
  bool skipValue(int depth);
  bool skipLiteral(const char* word);
  // Walks the memberIds array starting at its '['; calls fn(view) per string element.
  template <typename Fn>
  bool forEachMember(size_t arrayStart, Fn&& fn);

  const char* data_;
  size_t size_;
  size_t pos_ = 0;
  std::string error_;
};

}  // namespace experiment
