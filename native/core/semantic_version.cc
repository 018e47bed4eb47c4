#include "semantic_version.h"

#include "js_string.h"

namespace experiment {

namespace {
bool isDigit(char c) { return c >= '0' && c <= '9'; }
bool isWordOrDash(char c) {
  return isDigit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == '-';
}
}  // namespace

std::optional<SemanticVersion> SemanticVersion::parse(std::string_view s) {
  if (s.empty()) return std::nullopt;
  size_t i = 0;
  auto digitRun = [&](std::string_view& out) {
    size_t begin = i;
    while (i < s.size() && isDigit(s[i])) i++;
    out = s.substr(begin, i - begin);
    return i > begin;
  };
  std::string_view major, minor, patch;
  if (!digitRun(major)) return std::nullopt;
  if (i >= s.size() || s[i] != '.') return std::nullopt;
  i++;
  if (!digitRun(minor)) return std::nullopt;
  SemanticVersion v;
  v.major_ = jsStringToNumber(major);
  v.minor_ = jsStringToNumber(minor);
  if (i == s.size()) return v;
  if (s[i] != '.') return std::nullopt;
  i++;
  if (!digitRun(patch)) return std::nullopt;
  double p = jsStringToNumber(patch);
  v.patch_ = p == 0 ? 0 : p;  // Number(g4) || 0
  if (i == s.size()) return v;
  if (s[i] != '-') return std::nullopt;
  // After '-': ([-\w]+\.?)* , i.e. [-\w.]* that does not start with '.' and
  // has no two dots in a row (a trailing dot is fine).
  std::string_view rest = s.substr(i + 1);
  if (!rest.empty() && rest[0] == '.') return std::nullopt;
  for (size_t k = 0; k < rest.size(); k++) {
    char c = rest[k];
    if (c == '.') {
      if (k > 0 && rest[k - 1] == '.') return std::nullopt;
    } else if (!isWordOrDash(c)) {
      return std::nullopt;
    }
  }
  v.hasPreRelease_ = true;
  v.preRelease_ = std::string(s.substr(i));
  return v;
}

int SemanticVersion::compare(const SemanticVersion& o) const {
  // The three numbers compared without a branch on each (versions of users against a flag's list go either way).
  const int major = (major_ > o.major_) - (major_ < o.major_);
  const int minor = (minor_ > o.minor_) - (minor_ < o.minor_);
  const int patch = (patch_ > o.patch_) - (patch_ < o.patch_);
  const int numbers = major != 0 ? major : minor != 0 ? minor : patch;
  if (numbers != 0) return numbers;
  if (hasPreRelease_ && !o.hasPreRelease_) return -1;
  if (!hasPreRelease_ && o.hasPreRelease_) return 1;
  if (hasPreRelease_ && o.hasPreRelease_) {
    int c = compareUtf16(preRelease_, o.preRelease_);
    return c > 0 ? 1 : c < 0 ? -1 : 0;
  }
  return 0;
}

}  // namespace experiment
