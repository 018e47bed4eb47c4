// The amplitude-experiment command line, driven from a script (in a shell: npx amplitude-experiment ...).
// Offline: `pull` reads from the local Amplitude-compatible server instead of Amplitude.
// Run: npm run build:ts && node examples/cli.js
'use strict';
const { execFile } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { promisify } = require('node:util');
const { createLocalServer } = require('amplitude-experiment-native/dev-server');

const cli = require.resolve('amplitude-experiment-native/package.json').replace(/package\.json$/, 'dist/cjs/cli.js');
const run = (...args) => promisify(execFile)(process.execPath, [cli, ...args]);

async function main() {
  const flagsFile = path.join(__dirname, 'flags.json');
  const server = await createLocalServer({ flags: fs.readFileSync(flagsFile, 'utf8') });
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cli-example-'));
  try {
    // amplitude-experiment pull --key KEY --out FILE   (--server-zone eu for the EU data center)
    const out = path.join(dir, 'flags.json');
    const pulled = await run('pull', '--key', 'server-key', '--server-url', server.url, '--out', out);
    process.stdout.write(`$ amplitude-experiment pull --key server-key --out flags.json\n${pulled.stdout}`);

    // amplitude-experiment eval --flags FILE --user JSON --flag KEY
    const user = JSON.stringify({ user_id: 'ada@example.com', device_id: 'd1' });
    const evaluated = await run('eval', '--flags', out, '--user', user, '--flag', 'pricing-page');
    process.stdout.write(
      `$ amplitude-experiment eval --flags flags.json --user '${user}' --flag pricing-page\n${evaluated.stdout}`,
    );
  } finally {
    await server.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
