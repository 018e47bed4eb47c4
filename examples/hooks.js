// Evaluation hooks: count evaluations per flag and time them, the way a metrics or tracing hook would.
// Run: npm run build:ts && node examples/hooks.js
'use strict';
const { LocalEvaluationClient, TestData } = require('amplitude-experiment-native');

const td = new TestData();
td.update(td.flag('new-checkout').booleanFlag(), td.flag('banner').variations('a', 'b').rollout({ a: 50, b: 50 }));

const counts = new Map();
let totalMillis = 0;
const metricsHook = {
  name: 'metrics',
  // What beforeEvaluation returns is passed to afterEvaluation (a span, a start time...).
  beforeEvaluation: (context) => ({ method: context.method }),
  afterEvaluation(context, result, data) {
    totalMillis += result.durationMillis;
    for (const [flagKey, variant] of Object.entries(result.variants)) {
      const key = `${data.method} ${flagKey}=${variant.key}`;
      counts.set(key, (counts.get(key) ?? 0) + 1);
    }
  },
};

const client = new LocalEvaluationClient('example', { dataSource: td, hooks: [metricsHook] });
// A broken hook is caught and logged once; evaluation goes on.
client.addHook({
  name: 'broken',
  afterEvaluation() {
    throw new Error('oops');
  },
});

for (let i = 0; i < 100; i++) client.evaluateV2({ user_id: `user-${i}`, device_id: `device-${i}` });
client.evaluateV2Details({ user_id: 'ada' }, ['new-checkout']);

for (const [key, n] of [...counts].sort()) console.log(`${key}: ${n}`);
console.log(`evaluations timed: ${totalMillis >= 0 ? 'yes' : 'no'}`);
client.close();
