// Conformance replay for a build of the engine core on its own (no Node):
// parses each flag payload and evaluates every user against it, printing the
// evaluator's full trace (explain(): segments, conditions, values seen,
// bucketing, chosen variants) as one line per (payload, user). The output of a
// musl or cross build must be byte-identical to the host build's, whose core
// is the one the Node test suite checks against the official engine.
//
// usage: conformance <flags.json>... -- <user.json>...
#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "fuzz_host.h"

using namespace experiment;

static std::string slurp(const char* path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    std::fprintf(stderr, "conformance: cannot read %s\n", path);
    std::exit(2);
  }
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

int main(int argc, char** argv) {
  std::vector<const char*> payloads, users;
  bool afterSep = false;
  for (int i = 1; i < argc; i++) {
    if (std::string(argv[i]) == "--")
      afterSep = true;
    else
      (afterSep ? users : payloads).push_back(argv[i]);
  }
  if (payloads.empty() || users.empty()) {
    std::fprintf(stderr, "usage: conformance <flags.json>... -- <user.json>...\n");
    return 2;
  }
  Evaluator evaluator;
  size_t lines = 0;
  for (const char* p : payloads) {
    Snapshot snapshot;
    std::string error;
    if (!snapshot.parse(slurp(p), error)) {
      std::printf("%s: rejected: %s\n", p, error.c_str());
      continue;
    }
    fuzz::finalizeLikeHost(snapshot);
    fuzz::StubScriptHost host(snapshot);
    for (const char* u : users) {
      std::string trace;
      // setUser borrows the bytes (string nodes point into them): they must
      // outlive the evaluation, so no temporary here.
      const std::string user = fuzz::toValidUtf8(slurp(u));
      evaluator.setUser(user);
      uint32_t n = evaluator.explain(snapshot, host, nullptr, 0, trace);
      std::printf("%s %s %u %s\n", p, u, n, trace.c_str());
      lines++;
    }
  }
  std::fprintf(stderr, "conformance: %zu payload x user evaluations\n", lines);
  return 0;
}
