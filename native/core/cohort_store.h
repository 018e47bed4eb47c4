// Cohorts by id, for one client: the metadata the cohort poller needs
// (group type, lastModified, size) and the member set. Lives on the main
// thread; cohorts are built elsewhere (CohortParser on a worker thread) and
// swapped in whole, so a lookup never sees a half-loaded cohort.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "member_set.h"

namespace experiment {

struct Cohort {
  std::string id;
  std::string groupType;
  double groupTypeId = 0;
  double lastComputed = 0;
  double lastModified = 0;
  // `size` as the server reported it (the member set counts distinct ids).
  double size = 0;
  MemberSet members;

  size_t memoryBytes() const { return sizeof(Cohort) + id.capacity() + groupType.capacity() + members.memoryBytes(); }
};

class CohortStore {
 public:
  // Adds or replaces the cohort with the same id; returns the replaced one (or null).
  std::unique_ptr<Cohort> put(std::unique_ptr<Cohort> cohort);
  // Removes a cohort; returns it (or null) so the caller can account for its memory.
  std::unique_ptr<Cohort> remove(std::string_view id);
  const Cohort* get(std::string_view id) const;
  std::vector<std::string> ids() const;
  size_t count() const { return cohorts_.size(); }
  size_t memoryBytes() const;
  // Is the member (an encoded record, see MemberSet) in cohort `id` of `groupType`?
  bool isMember(std::string_view id, std::string_view groupType, std::string_view record, uint64_t recordHash) const;

 private:
  std::unordered_map<std::string, std::unique_ptr<Cohort>> cohorts_;
};

}  // namespace experiment
