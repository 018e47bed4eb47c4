// Metrics: count what the client does with a plain `metrics` object, printed in Prometheus' text format
// (the same callbacks can feed prom-client, StatsD or OpenTelemetry: see examples/opentelemetry.js).
// Offline: the local Amplitude-compatible server stands in for Amplitude, and fails one flag request.
// Run: npm run build:ts && node examples/metrics.js
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const { LocalEvaluationClient } = require('amplitude-experiment-native');
const { createLocalServer } = require('amplitude-experiment-native/dev-server');

/** Counters keyed by name and labels, rendered as Prometheus exposition text. */
class Counters {
  constructor() {
    this.values = new Map();
  }
  add(name, labels = {}, n = 1) {
    const key = name + JSON.stringify(labels);
    const entry = this.values.get(key) ?? { name, labels, value: 0 };
    entry.value += n;
    this.values.set(key, entry);
  }
  render() {
    return [...this.values.values()]
      .sort((a, b) => (a.name + JSON.stringify(a.labels)).localeCompare(b.name + JSON.stringify(b.labels)))
      .map(({ name, labels, value }) => {
        const l = Object.entries(labels)
          .map(([k, v]) => `${k}="${v}"`)
          .join(',');
        return `${name}${l ? `{${l}}` : ''} ${value}`;
      })
      .join('\n');
  }
}

async function main() {
  const flags = JSON.parse(fs.readFileSync(path.join(__dirname, 'flags.json'), 'utf8'));
  const server = await createLocalServer({ flags });
  server.injectFaults('flags', { status: 503 }); // the first flag request fails; start() retries
  const counters = new Counters();
  const metrics = {
    onEvaluation: () => counters.add('experiment_evaluations_total'),
    onFlagConfigFetch: () => counters.add('experiment_flag_fetches_total'),
    onFlagConfigFetchFailure: (err) => counters.add('experiment_flag_fetch_failures_total', { status: err.statusCode ?? 'none' }),
    onSnapshotInstall: (millis, flagCount, source) => {
      counters.add('experiment_snapshot_installs_total', { source });
      console.log(`installed ${flagCount} flags from ${source} (${millis >= 0 ? 'timed' : '?'})`);
    },
  };
  const client = new LocalEvaluationClient('server-key', { serverUrl: server.url, metrics });
  await client.start();
  for (let i = 0; i < 10; i++) client.evaluateV2({ user_id: `user-${i}` }, ['new-checkout']);
  await client.close();
  await server.close();
  console.log(counters.render());
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
