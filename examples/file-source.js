// Flags from a JSON file, reloaded when it changes: offline boot, local development, tests.
// Run: npm run build:ts && node examples/file-source.js
'use strict';
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { LocalEvaluationClient } = require('amplitude-experiment-native');

const flag = (value) => [{ key: 'banner', segments: [{ variant: 'v' }], variants: { v: { key: 'v', value } } }];

async function main() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'flags-'));
  const file = path.join(dir, 'flags.json'); // e.g. saved by `amplitude-experiment pull`
  fs.writeFileSync(file, JSON.stringify(flag('spring sale')));

  const client = new LocalEvaluationClient('unused', { flagsFile: file, flagsFilePollIntervalMillis: 100 });
  await client.start(); // rejects if the file is missing or holds no usable flags
  console.log(`first: ${client.evaluateV2({ user_id: 'u' }).banner.value}`);

  // Replace the file the way deploy tools do (write elsewhere, rename over): the client reloads it.
  fs.writeFileSync(`${file}.tmp`, JSON.stringify(flag('summer sale')));
  fs.renameSync(`${file}.tmp`, file);
  const deadline = Date.now() + 10_000;
  while (client.evaluateV2({ user_id: 'u' }).banner.value !== 'summer sale' && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 20));
  }
  console.log(`after the change: ${client.evaluateV2({ user_id: 'u' }).banner.value}`);

  // A broken file is logged and ignored: the last good flags keep serving.
  fs.writeFileSync(file, '[{"key": ');
  await new Promise((r) => setTimeout(r, 300));
  console.log(`after a bad file: ${client.evaluateV2({ user_id: 'u' }).banner.value}`);

  await client.close();
  fs.rmSync(dir, { recursive: true, force: true });
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
