#include "cohort_store.h"

namespace experiment {

std::unique_ptr<Cohort> CohortStore::put(std::unique_ptr<Cohort> cohort) {
  auto it = cohorts_.find(cohort->id);
  if (it == cohorts_.end()) {
    std::string key = cohort->id;
    cohorts_.emplace(std::move(key), std::move(cohort));
    return nullptr;
  }
  std::unique_ptr<Cohort> old = std::move(it->second);
  it->second = std::move(cohort);
  return old;
}

std::unique_ptr<Cohort> CohortStore::remove(std::string_view id) {
  auto it = cohorts_.find(std::string(id));
  if (it == cohorts_.end()) return nullptr;
  std::unique_ptr<Cohort> old = std::move(it->second);
  cohorts_.erase(it);
  return old;
}

const Cohort* CohortStore::get(std::string_view id) const {
  auto it = cohorts_.find(std::string(id));
  return it == cohorts_.end() ? nullptr : it->second.get();
}

std::vector<std::string> CohortStore::ids() const {
  std::vector<std::string> out;
  out.reserve(cohorts_.size());
  for (const auto& entry : cohorts_) out.push_back(entry.first);
  return out;
}

size_t CohortStore::memoryBytes() const {
  size_t total = 0;
  for (const auto& entry : cohorts_) total += entry.second->memoryBytes();
  return total;
}

bool CohortStore::isMember(std::string_view id, std::string_view groupType, std::string_view record,
                           uint64_t recordHash) const {
  const Cohort* cohort = get(id);
  return cohort != nullptr && cohort->groupType == groupType && cohort->members.contains(record, recordHash);
}

}  // namespace experiment
