#!/usr/bin/env node
'use strict';
/**
 * Cost of the OpenTelemetry tracing hook (amplitude-experiment-native/opentelemetry) on evaluateV2: the same
 * client and flags with and without the hook, outside any span and inside an active (recording) span, printed
 * as ns per call and as ratios to the hook-less call in the same setting.
 *
 *   npm run build:ts && node bench/otel.js            (see bench/README.md)
 *
 * Options (environment):
 *   BENCH_FLAGS=100       flags in the generated config (test/support/generator.ts, realistic profile)
 *   BENCH_CELL_MS=600     measured time per cell, split into BENCH_ROUNDS rounds (the median round is reported)
 *   BENCH_ROUNDS=3
 *   BENCH_SEED=7
 */
const os = require('os');
const lib = require('./lib');

const { median, measure, formatNanos: fmt } = lib;
const fail = (message) => lib.fail('bench/otel.js', message);
const load = (rel) => lib.loadDist(rel, 'bench/otel.js');
const FLAGS = Math.max(1, Number(process.env.BENCH_FLAGS || 100));
const CELL_MS = Number(process.env.BENCH_CELL_MS || 600);
const ROUNDS = Math.max(1, Number(process.env.BENCH_ROUNDS || 3));
const SEED = Number(process.env.BENCH_SEED || 7) >>> 0;
const USERS = 64;
/** Evaluations per request span: a span is replaced after this many calls, as a request would end. */
const CALLS_PER_SPAN = 32;

function main() {
  let api;
  let sdkTrace;
  let asyncHooks;
  try {
    api = require('@opentelemetry/api');
    sdkTrace = require('@opentelemetry/sdk-trace-base');
    asyncHooks = require('@opentelemetry/context-async-hooks');
  } catch (err) {
    fail(`the OpenTelemetry devDependencies are missing (npm install): ${err.message}`);
  }
  const sdk = load('index.js');
  const { TracingHook } = load('opentelemetry/index.js');
  const gen = lib.loadGenerator('bench/otel.js');

  api.context.setGlobalContextManager(new asyncHooks.AsyncLocalStorageContextManager().enable());
  // Recording spans with no exporter: the hook's work (attributes, events) is measured, not an exporter's.
  const provider = new sdkTrace.BasicTracerProvider({ spanLimits: { eventCountLimit: 1_000_000 } });
  const tracer = provider.getTracer('bench');

  const c = gen.generateCase(gen.deriveSeed(SEED, FLAGS), FLAGS, USERS, { profile: 'realistic' });
  const bootstrap = JSON.parse(JSON.stringify(c.flags));
  const users = c.users;
  const quiet = sdk.LogLevel.Disable;
  const plain = new sdk.LocalEvaluationClient('bench', { bootstrap, logLevel: quiet });
  const events = new sdk.LocalEvaluationClient('bench', { bootstrap, logLevel: quiet, hooks: [new TracingHook()] });
  const spans = new sdk.LocalEvaluationClient('bench', {
    bootstrap,
    logLevel: quiet,
    hooks: [new TracingHook({ spans: true, tracerProvider: provider })],
  });
  const withDeps = c.flags.find((f) => Array.isArray(f.dependencies) && f.dependencies.length > 0);
  const oneKey = [(withDeps || c.flags[0]).key];

  /** Wrap an evaluation so it runs inside an active request span (replaced every CALLS_PER_SPAN calls). */
  function inActiveSpan(evaluate) {
    let span = tracer.startSpan('request');
    let ctx = api.trace.setSpan(api.context.active(), span);
    let n = 0;
    return (user) => {
      if (++n % CALLS_PER_SPAN === 0) {
        span.end();
        span = tracer.startSpan('request');
        ctx = api.trace.setSpan(api.context.active(), span);
      }
      return api.context.with(ctx, evaluate, undefined, user);
    };
  }

  const cpu = (os.cpus()[0] && os.cpus()[0].model) || 'unknown CPU';
  console.log('evaluateV2 per call with the OpenTelemetry tracing hook (TracingHook), ratios to no hook in the same setting');
  console.log(`node ${process.version}, ${os.platform()}-${os.arch()}, ${os.cpus().length} x ${cpu}`);
  console.log(
    `${FLAGS} generated flags (seed ${SEED}), ${USERS} users, ${ROUNDS} x ${Math.round(CELL_MS / ROUNDS)} ms per cell (median round)\n`,
  );

  const rows = [];
  for (const [label, keys] of [
    [`1 flag (${oneKey[0]})`, oneKey],
    ['all flags', undefined],
  ]) {
    const run = (client) => (user) => Object.keys(client.evaluateV2(user, keys)).length;
    const cells = {
      'no span: no hook': run(plain),
      'no span: hook (nothing recorded)': run(events),
      'active span: no hook': inActiveSpan(run(plain)),
      'active span: hook, span events': inActiveSpan(run(events)),
      'active span: hook, spans: true': inActiveSpan(run(spans)),
    };
    const times = Object.fromEntries(Object.keys(cells).map((k) => [k, []]));
    for (const fn of Object.values(cells)) measure(fn, users, 100); // warm-up
    for (let r = 0; r < ROUNDS; r++) {
      for (const [k, fn] of Object.entries(cells)) times[k].push(measure(fn, users, CELL_MS / ROUNDS));
    }
    const m = Object.fromEntries(Object.entries(times).map(([k, v]) => [k, median(v)]));
    for (const k of Object.keys(cells)) {
      const base = k.startsWith('no span') ? m['no span: no hook'] : m['active span: no hook'];
      rows.push({ case: label, setting: k, perCall: fmt(m[k]), ratio: `${(m[k] / base).toFixed(2)}x` });
    }
  }
  const w = [24, 36, 12, 10];
  const line = (cols) => cols.map((s, i) => String(s).padEnd(w[i])).join(' | ');
  console.log(line(['case', 'setting', 'per call', 'vs no hook']));
  console.log(w.map((n) => '-'.repeat(n)).join('-|-'));
  for (const r of rows) console.log(line([r.case, r.setting, r.perCall, r.ratio]));
  void provider.shutdown();
  for (const client of [plain, events, spans]) client.stop();
}

main();
