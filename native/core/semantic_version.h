// Semantic versions with the accept/reject rules of @amplitude/experiment-core
// 0.13.1: the pattern ^(\d+)\.(\d+)(\.(\d+)(-(([-\w]+\.?)*))?)?$, matched here by
// a linear scan instead of the reference's backtracking regex.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace experiment {

class SemanticVersion {
 public:
  static std::optional<SemanticVersion> parse(std::string_view text);
  // <0, 0, >0 like the reference compareTo.
  int compare(const SemanticVersion& other) const;

 private:
  double major_ = 0;
  double minor_ = 0;
  double patch_ = 0;
  bool hasPreRelease_ = false;
  std::string preRelease_;  // including the leading '-', as the reference keeps it
};

}  // namespace experiment
