#!/usr/bin/env node
'use strict';
// worker_threads stress for the engine (native addon or JS fallback):
// WORKERS threads each load the engine in their own Node environment and
// evaluate continuously, while the main thread keeps building new snapshots
// from alternating payloads, swapping them in and evaluating too; every
// SWAPS round the workers are told to swap as well. One extra worker is
// terminated in the middle of its work (environment teardown with live
// snapshots). Every answer is checked against the main thread's answer for
// the same payload version. Exit code 0 = all answers agreed and every worker
// exited cleanly; a crash shows as a signal / non-zero exit to the caller.
//
// --terminate N: instead, N workers (3 at a time) evaluate flags full of regex
// conditions (each one a call from C++ back into JavaScript) in a tight loop
// and are terminated at a random moment: a call into an env being torn down
// must not abort the process.
//
// usage: node scripts/worker-stress.js [--pkg <package root>] [--expect native|js] [--terminate N]
// env:   WORKERS (8) ITERATIONS (2000 evaluations per worker)
//        SWAPS (50: minimum main-thread swaps; it keeps swapping until the workers finish)

const path = require('path');
const { Worker, isMainThread, parentPort, workerData } = require('worker_threads');

function payload(version) {
  const flags = [];
  for (let i = 0; i < 40; i++) {
    const variants = {
      on: { key: 'on', value: 'on' },
      off: { key: 'off', metadata: { default: true } },
      t: { key: 't', value: { n: i } },
    };
    const conditions = [
      [{ selector: ['context', 'user', 'user_properties', 'plan'], op: i % 2 ? 'is' : 'is not', values: ['premium', `p${i}`] }],
      [{ selector: ['context', 'user', 'version'], op: 'version greater', values: [`1.${i}.0`] }],
      [{ selector: ['context', 'user', 'user_properties', 'tags'], op: 'set contains any', values: ['a', `t${i % 7}`] }],
    ];
    flags.push({
      key: `f${i}`,
      metadata: { flagVersion: version, flagType: 'experiment' },
      dependencies: i > 0 && i % 5 === 0 ? [`f${i - 1}`] : undefined,
      segments: [
        { conditions, variant: 't', metadata: { segmentName: 'targeted' } },
        {
          bucket: {
            selector: ['context', 'user', 'device_id'],
            salt: `salt-${version}-${i}`,
            allocations: [
              {
                range: [0, 100],
                distributions: [
                  { variant: 'on', range: [0, 21474837] },
                  { variant: 't', range: [21474837, 42949673] },
                ],
              },
            ],
          },
          variant: 'off',
        },
      ],
      variants,
    });
  }
  return JSON.stringify(flags);
}

const USERS = [];
for (let u = 0; u < 16; u++) {
  USERS.push({
    device_id: `dev-${u}`,
    user_id: u % 3 ? `user-${u}` : undefined,
    version: `1.${u}.${u % 4}`,
    user_properties: { plan: u % 4 ? 'free' : 'premium', tags: [`t${u % 7}`, 'z'] },
  });
}

// Canonical form: flag keys sorted, variant fields sorted.
function canon(results) {
  const out = {};
  for (const k of Object.keys(results).sort()) {
    const v = results[k];
    const c = {};
    for (const f of Object.keys(v).sort()) if (v[f] !== undefined) c[f] = v[f];
    out[k] = c;
  }
  return JSON.stringify(out);
}

function loadEngine(pkgRoot) {
  return require(path.join(pkgRoot, 'dist', 'cjs', 'engine')).loadEngine();
}

// Flags whose every condition calls back into JavaScript (regex), and a
// catch-all segment so every flag has an answer.
function regexPayload() {
  const flags = [];
  for (let i = 0; i < 40; i++) {
    flags.push({
      key: `r${i}`,
      variants: { on: { key: 'on', value: 'on' } },
      segments: [
        {
          conditions: [
            [{ selector: ['context', 'user', 'user_properties', 'plan'], op: 'regex does match', values: [`^p${i}$`] }],
            [{ selector: ['context', 'user', 'user_id'], op: 'regex does not match', values: ['^user-'] }],
          ],
          variant: 'on',
        },
        { variant: 'on' },
      ],
    });
  }
  return JSON.stringify(flags);
}

function terminateMode(pkgRoot, total) {
  let started = 0;
  let exited = 0;
  const spawn = () => {
    started++;
    const w = new Worker(__filename, { workerData: { pkgRoot, mode: 'busy', payload: regexPayload() } });
    w.on('message', () => setTimeout(() => w.terminate(), Math.random() * 15));
    w.on('error', () => undefined);
    w.on('exit', () => {
      exited++;
      if (started < total) spawn();
      else if (exited === total) console.log(`worker-stress: PASS ${total} workers terminated mid-evaluation`);
    });
  };
  for (let i = 0; i < Math.min(3, total); i++) spawn();
}

if (isMainThread && process.argv.includes('--terminate')) {
  const argv = process.argv.slice(2);
  const opt = (n) => (argv.indexOf(n) >= 0 ? argv[argv.indexOf(n) + 1] : undefined);
  terminateMode(path.resolve(opt('--pkg') || path.join(__dirname, '..')), Number(opt('--terminate')));
} else if (isMainThread) {
  const argv = process.argv.slice(2);
  const opt = (n) => (argv.indexOf(n) >= 0 ? argv[argv.indexOf(n) + 1] : undefined);
  const pkgRoot = path.resolve(opt('--pkg') || path.join(__dirname, '..'));
  const expect = opt('--expect');
  const WORKERS = Number(process.env.WORKERS || 8);
  const ITERATIONS = Number(process.env.ITERATIONS || 2000);
  const SWAPS = Number(process.env.SWAPS || 50);
  const started = Date.now();

  const engine = loadEngine(pkgRoot);
  if (expect && engine.kind !== expect) {
    console.error(`worker-stress: expected the ${expect} engine, got ${engine.kind}`);
    process.exit(1);
  }
  const payloads = [payload(1), payload(2)];
  const expected = payloads.map((p) => {
    const s = engine.load(p);
    return USERS.map((u) => canon(s.evaluate(u)));
  });
  if (expected[0].join() === expected[1].join()) {
    console.error('worker-stress: the two payload versions give identical answers; the test would prove nothing');
    process.exit(1);
  }

  const failures = [];
  let exited = 0;
  const workers = [];
  const done = new Promise((resolve) => {
    const onExit = (i, victim) => (code) => {
      if (!victim && code !== 0) failures.push(`worker ${i} exited with code ${code}`);
      if (++exited === WORKERS + 1) resolve();
    };
    for (let i = 0; i <= WORKERS; i++) {
      const victim = i === WORKERS; // the extra worker gets terminated mid-run
      const w = new Worker(__filename, {
        workerData: { pkgRoot, payloads, expected, iterations: victim ? 1e9 : ITERATIONS, id: i },
      });
      w.on('message', (m) => {
        if (m.type === 'mismatch') failures.push(`worker ${i}: ${m.detail}`);
        if (m.type === 'ready' && victim) setTimeout(() => w.terminate(), 50);
        if (m.type === 'done') w.stats = m;
      });
      w.on('error', (err) => failures.push(`worker ${i} error: ${err && err.stack}`));
      w.on('exit', onExit(i, victim));
      workers.push(w);
    }
  });

  // Main thread: swap its own snapshot back and forth while the workers run,
  // and tell the workers to swap every few rounds.
  let current = engine.load(payloads[0]);
  let version = 0;
  let round = 0;
  const timer = setInterval(() => {
    round++;
    version = 1 - version;
    const next = engine.load(payloads[version]);
    current = next; // the swap: one reference assignment
    const got = USERS.map((u) => canon(current.evaluate(u)));
    if (got.join('\n') !== expected[version].join('\n')) failures.push(`main thread: wrong answers after swap ${round}`);
    if (round % 5 === 0) for (const w of workers) w.postMessage({ type: 'swap', version });
    if (global.gc && round % 10 === 0) global.gc();
  }, 5);

  const finished = done.then(
    () =>
      new Promise((resolve) => {
        // keep swapping until at least SWAPS rounds happened
        const wait = () => (round >= SWAPS ? resolve() : setTimeout(wait, 5));
        wait();
      }),
  );
  finished.then(() => {
    clearInterval(timer);
    const evals = workers.reduce((n, w) => n + (w.stats ? w.stats.evaluations : 0), 0);
    const secs = ((Date.now() - started) / 1000).toFixed(1);
    if (failures.length) {
      for (const f of failures.slice(0, 10)) console.error('  FAIL ' + f);
      console.error(`worker-stress: FAIL (${failures.length} problems)`);
      process.exitCode = 1;
    } else {
      console.log(
        `worker-stress: PASS engine=${engine.kind} ${WORKERS} workers (+1 terminated), ${evals} worker evaluations, ${round} main-thread swaps, ${secs} s`,
      );
    }
  });
} else if (workerData.mode === 'busy') {
  const snapshot = loadEngine(workerData.pkgRoot).load(workerData.payload);
  parentPort.postMessage('ready');
  for (let i = 0; ; i++) snapshot.evaluate({ user_id: `user-${i % 7}`, user_properties: { plan: `p${i % 40}` } });
} else {
  const { pkgRoot, payloads, expected, iterations, id } = workerData;
  const engine = loadEngine(pkgRoot);
  let version = id % 2;
  let snapshot = engine.load(payloads[version]);
  let evaluations = 0;
  parentPort.on('message', (m) => {
    if (m.type === 'swap') {
      version = m.version;
      snapshot = engine.load(payloads[version]);
    }
  });
  parentPort.postMessage({ type: 'ready' });
  let i = 0;
  let mismatches = 0;
  // Evaluate in slices so swap messages get delivered between them.
  const slice = () => {
    const end = Math.min(iterations, i + 50);
    for (; i < end; i++) {
      const u = i % USERS.length;
      const got = canon(snapshot.evaluate(USERS[u]));
      evaluations++;
      if (got !== expected[version][u] && mismatches++ < 3) {
        parentPort.postMessage({ type: 'mismatch', detail: `user ${u} version ${version}: ${got.slice(0, 200)}` });
      }
      if (i % 97 === 0) snapshot.evaluate(USERS[u], [`f${i % 40}`]);
    }
    if (i < iterations) setImmediate(slice);
    else {
      parentPort.postMessage({ type: 'done', evaluations });
      parentPort.close();
    }
  };
  slice();
}
