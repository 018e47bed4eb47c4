// Last-known-good flags: persist every payload fetched from Amplitude, start from it when Amplitude is down.
// Offline: the local Amplitude-compatible server stands in for Amplitude.
// Run: npm run build:ts && node examples/persistence.js
'use strict';
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { LocalEvaluationClient } = require('amplitude-experiment-native');
const { createLocalServer } = require('amplitude-experiment-native/dev-server');

async function main() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lkg-'));
  const file = path.join(dir, 'experiment-flags.json');
  const flags = JSON.parse(fs.readFileSync(path.join(__dirname, 'flags.json'), 'utf8'));
  const server = await createLocalServer({ flags });
  const serverUrl = server.url;

  // 1. Amplitude is up: the client fetches the flags and writes them to `file` (temp file + rename).
  const first = new LocalEvaluationClient('server-key', { serverUrl, persistence: { path: file } });
  await first.start();
  await first.close(); // also waits for the file write
  console.log(`persisted ${JSON.parse(fs.readFileSync(file, 'utf8')).flags.length} flags`);

  // 2. Amplitude is down: start() resolves from the file (with a logged warning) instead of rejecting.
  await server.close();
  const warnings = [];
  const logger = { debug() {}, info() {}, warn: (m) => warnings.push(m), error() {} };
  const second = new LocalEvaluationClient('server-key', {
    serverUrl,
    persistence: { path: file, startFallbackMillis: 500 },
    logger,
  });
  await second.start();
  const variant = second.evaluateV2({ user_id: 'ada@example.com', device_id: 'd1' }, ['pricing-page'])['pricing-page'];
  console.log(`server down, pricing-page from the last-known-good file: ${variant.key}`);
  console.log(`warning logged: ${warnings.some((w) => w.includes('last-known-good'))}`);
  await second.close();
  fs.rmSync(dir, { recursive: true, force: true });
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
