// A fleet-mode process for multi-process tests: LocalEvaluationClient from dist/, config from argv[2] (JSON).
// Reports over IPC: { type: 'ready', role, variant } once started, then { type: 'variant', ... } on each change.
'use strict';
const path = require('path');
const { LocalEvaluationClient } = require(path.join(__dirname, '..', '..', 'dist', 'cjs', 'local', 'client.js'));

const { apiKey, config, internals } = JSON.parse(process.argv[2]);
const silent = { verbose() {}, debug() {}, info() {}, warn() {}, error() {} };
// Test-only timings (src/local/internals.ts), under the registered symbol the client looks for.
const INTERNALS = Symbol.for('amplitude-experiment-native.localClientInternals');
const client = new LocalEvaluationClient(apiKey, { ...config, logger: silent, [INTERNALS]: internals ?? {} });
const variant = () => client.evaluateV2({ user_id: 'u1' }, ['a', 'vip']);
const report = (type) => process.send({ type, role: client.fleetStatus()?.role, a: variant().a?.key, vip: variant().vip?.key });
client.on('update', () => report('variant'));
process.on('message', (m) => {
  if (m === 'status') report('status');
  if (m === 'stop') void client.close({ flushTimeoutMillis: 100 }).then(() => process.exit(0));
});
process.on('disconnect', () => process.exit(0));
client.start().then(
  () => report('ready'),
  (e) => {
    process.send({ type: 'failed', error: String(e) });
    process.exit(1);
  },
);
