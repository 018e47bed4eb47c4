'use strict';
// What the benchmarks share: argument parsing, loading this SDK's build, the generator, child processes that
// report one RESULT line, memory and event-loop measurement around a load, and a throwaway redis-server.

const { execFileSync, spawn } = require('child_process');
const fs = require('fs');
const Module = require('module');
const net = require('net');
const os = require('os');
const path = require('path');

const root = path.join(__dirname, '..');
const silentLogger = { verbose() {}, debug() {}, info() {}, warn() {}, error() {} };
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const mb = (bytes) => (bytes / 1048576).toFixed(1) + ' MB';

/** `--name value` from the command line as a number, or `fallback`. */
function arg(name, fallback) {
  const argv = process.argv;
  const i = argv.indexOf(name);
  return i >= 0 && argv[i + 1] !== undefined ? Number(argv[i + 1]) : fallback;
}

/** Print `script: message` and exit 1: a bench never prints numbers it did not measure. */
function fail(script, message) {
  console.error(`${script}: ${message}`);
  process.exit(1);
}

/** A module of this SDK's CommonJS build (dist/cjs), with a clear message when the build is missing. */
function loadDist(rel, script = 'bench') {
  const file = path.join(root, 'dist', 'cjs', rel);
  if (!fs.existsSync(file) && !fs.existsSync(file + '.js') && !fs.existsSync(path.join(file, 'index.js'))) {
    fail(script, `${path.relative(root, file)} is missing: run "npm run build:ts" first.`);
  }
  return require(file);
}

/** test/support/generator.ts, transpiled in memory with the typescript devDependency (it has no imports). */
function loadGenerator(script = 'bench') {
  const file = path.join(root, 'test', 'support', 'generator.ts');
  let ts;
  try {
    ts = require('typescript');
  } catch {
    fail(script, 'the "typescript" devDependency is needed to load test/support/generator.ts (npm install).');
  }
  const out = ts.transpileModule(fs.readFileSync(file, 'utf8'), {
    fileName: file,
    compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022 },
  });
  const m = new Module(file, module);
  m.filename = file;
  m.paths = Module._nodeModulePaths(path.dirname(file));
  m._compile(out.outputText, file);
  return m.exports;
}

function median(xs) {
  const s = xs.slice().sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

let sink = 0;

/** ns per call of `fn(user)` (which returns a number, kept so the work cannot be dropped) for about `ms` ms, with
 * users taken in turn and calls in batches of >= ~2 ms per clock read. */
function measure(fn, users, ms) {
  let i = 0;
  let batch = 1;
  for (;;) {
    const t0 = process.hrtime.bigint();
    for (let k = 0; k < batch; k++) sink += fn(users[i++ % users.length]);
    if (Number(process.hrtime.bigint() - t0) >= 2e6 || batch >= 1 << 20) break;
    batch *= 2;
  }
  let calls = 0;
  const start = process.hrtime.bigint();
  const budget = BigInt(Math.round(ms * 1e6));
  let elapsed = 0n;
  do {
    for (let k = 0; k < batch; k++) sink += fn(users[i++ % users.length]);
    calls += batch;
    elapsed = process.hrtime.bigint() - start;
  } while (elapsed < budget);
  return Number(elapsed) / calls;
}

/** What the measured calls returned, summed: reading it keeps their work observable. */
function measuredSink() {
  return sink;
}

/** A duration in nanoseconds as ns, µs or ms with three significant digits. */
function formatNanos(ns) {
  if (ns >= 1e6) return `${(ns / 1e6).toFixed(2)} ms`;
  if (ns >= 1e3) return `${(ns / 1e3).toFixed(ns >= 1e5 ? 0 : ns >= 1e4 ? 1 : 2)} µs`;
  return `${ns.toFixed(0)} ns`;
}

/** A release flag serving 'on' to members of `cohortId` and 'off' to everyone else. */
function cohortFlag(key, cohortId) {
  return {
    key,
    metadata: { deployed: true, evaluationMode: 'local', flagType: 'release', flagVersion: 1 },
    segments: [
      {
        conditions: [[{ op: 'set contains any', selector: ['context', 'user', 'cohort_ids'], values: [cohortId] }]],
        metadata: { segmentName: 'Cohort' },
        variant: 'on',
      },
      { metadata: { segmentName: 'All Other Users' }, variant: 'off' },
    ],
    variants: { off: { key: 'off', metadata: { default: true } }, on: { key: 'on', value: 'on' } },
  };
}

/** Run `main`, or `child(...argv after --child)` in a child process; any error exits 1. */
function runScript(main, child) {
  const i = process.argv.indexOf('--child');
  const run = i >= 0 && child ? () => child(...process.argv.slice(i + 1)) : main;
  Promise.resolve()
    .then(run)
    .catch((e) => {
      console.error(e);
      process.exit(1);
    });
}

/** In a child: hand the parent the one result line it waits for. */
function reportResult(result) {
  process.stdout.write('RESULT ' + JSON.stringify(result) + '\n');
}

/** Run `script --child ...childArgs` under --expose-gc and resolve its RESULT line. */
function runChild(script, childArgs, env = {}) {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, ['--expose-gc', script, '--child', ...childArgs], {
      cwd: root,
      env: { ...process.env, ...env, NODE_NO_WARNINGS: '1' },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    p.stdout.on('data', (d) => (out += d));
    p.on('exit', (code) => {
      const line = out.split('\n').find((l) => l.startsWith('RESULT '));
      if (code !== 0 || !line) reject(new Error(`${childArgs[0]} child failed (code ${code}):\n${out}`));
      else resolve(JSON.parse(line.slice(7)));
    });
  });
}

function fullGc() {
  global.gc();
  global.gc();
}

/**
 * Starts measuring a load (needs --expose-gc): memory after a full GC as the baseline, peak RSS sampled every
 * 5 ms, and the event loop's longest block (both a delay histogram and the longest gap between 5 ms ticks).
 * `finish()` stops it and returns the growth after another full GC.
 */
function measureLoad() {
  const { monitorEventLoopDelay, performance } = require('perf_hooks');
  fullGc();
  const base = process.memoryUsage();
  let peakRss = base.rss;
  const sampler = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage().rss)), 5);
  const loop = monitorEventLoopDelay({ resolution: 5 });
  loop.enable();
  let lastTick = performance.now();
  let maxGap = 0;
  const ticker = setInterval(() => {
    const now = performance.now();
    maxGap = Math.max(maxGap, now - lastTick - 5);
    lastTick = now;
  }, 5);
  return {
    async finish() {
      // Let the monitors tick once more: a block right before the load finished shows only at the next tick.
      await sleep(20);
      loop.disable();
      clearInterval(sampler);
      clearInterval(ticker);
      await sleep(200);
      fullGc();
      await sleep(100);
      fullGc();
      const after = process.memoryUsage();
      return {
        rssGrowth: after.rss - base.rss,
        peakRssGrowth: peakRss - base.rss,
        heapGrowth: after.heapUsed - base.heapUsed,
        externalGrowth: after.external + after.arrayBuffers - (base.external + base.arrayBuffers),
        eventLoopMaxMillis: Math.max(loop.max / 1e6, maxGap),
        eventLoopHistogramMaxMillis: loop.max / 1e6,
        eventLoopMaxGapMillis: maxGap,
      };
    },
  };
}

function portFree(port) {
  return new Promise((resolve) => {
    const s = net.createServer();
    s.once('error', () => resolve(false));
    s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
  });
}

function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

/**
 * A throwaway redis-server on a free 127.0.0.1 port with no persistence, killed (and its folder removed) by
 * `stop()` or when this process exits. Resolves undefined when redis-server is not installed.
 */
async function startRedisServer() {
  try {
    execFileSync('redis-server', ['--version'], { stdio: 'ignore' });
  } catch {
    return undefined;
  }
  const port = await freePort();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-redis-'));
  const proc = spawn(
    'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', '', '--appendonly', 'no'],
    { stdio: 'ignore' },
  );
  const stop = () => {
    try {
      proc.kill('SIGKILL');
    } catch {
      // already exited
    }
    fs.rmSync(dir, { recursive: true, force: true });
  };
  process.on('exit', stop);
  for (let i = 0; i < 200; i++) {
    if (!(await portFree(port))) {
      const cli = (...a) =>
        execFileSync('redis-cli', ['-p', String(port), ...a])
          .toString()
          .trim();
      return { port, url: `redis://127.0.0.1:${port}`, stop, cli };
    }
    await sleep(25);
  }
  stop();
  throw new Error('redis-server did not start');
}

module.exports = {
  root,
  silentLogger,
  sleep,
  mb,
  arg,
  fail,
  loadDist,
  loadGenerator,
  median,
  measure,
  measuredSink,
  formatNanos,
  cohortFlag,
  runScript,
  reportResult,
  runChild,
  fullGc,
  measureLoad,
  startRedisServer,
};
