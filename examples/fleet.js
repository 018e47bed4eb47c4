// Fleet mode: three processes share one Redis; one is elected writer and fetches from "Amplitude" (the local
// Amplitude-compatible server), the others read the published snapshot. Needs redis-server on the PATH (it is
// started on a free 127.0.0.1 port and stopped at the end) and the ioredis package (npm install ioredis).
// Run: npm run build:ts && node examples/fleet.js
'use strict';
const { execFileSync, fork, spawn } = require('node:child_process');
const fs = require('node:fs');
const net = require('node:net');
const os = require('node:os');
const path = require('node:path');
const { LocalEvaluationClient } = require('amplitude-experiment-native');

const quiet = { debug() {}, info() {}, warn() {}, error() {} };

// ---- one process of the fleet
async function member(serverUrl, redisUrl) {
  const client = new LocalEvaluationClient('server-example-key', {
    serverUrl,
    flagConfigPollingIntervalMillis: 1000,
    redisConfig: { mode: 'fleet', url: redisUrl, leaseMillis: 2000, updateCheckMillis: 200 },
    logger: quiet,
  });
  await client.start();
  const variant = () => client.evaluateV2({ user_id: 'ada@example.com', device_id: 'd1' }, ['new-checkout'])['new-checkout']?.key;
  const report = () => process.send({ ...client.fleetStatus(), variant: variant() });
  client.on('update', report);
  process.on('message', (m) => (m === 'status' ? report() : process.exit(0)));
  report();
}

// ---- the demo
function freePort() {
  return new Promise((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

async function main() {
  try {
    execFileSync('redis-server', ['--version'], { stdio: 'ignore' });
  } catch {
    console.log('fleet example skipped: redis-server is not installed (apt-get install redis-server)');
    return;
  }
  const { createLocalServer } = require('amplitude-experiment-native/dev-server');
  const flags = JSON.parse(fs.readFileSync(path.join(__dirname, 'flags.json'), 'utf8'));
  const server = await createLocalServer({ flags });
  const port = await freePort();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fleet-example-'));
  const redis = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', ''], {
    stdio: 'ignore',
  });
  const children = [];
  const cleanup = () => {
    for (const c of children) c.kill('SIGKILL');
    redis.kill('SIGKILL');
    fs.rmSync(dir, { recursive: true, force: true });
  };
  process.on('exit', cleanup);
  try {
    for (
      let i = 0;
      i < 50 &&
      !(await new Promise((r) =>
        net
          .connect(port, '127.0.0.1')
          .on('connect', function () {
            this.destroy();
            r(true);
          })
          .on('error', () => r(false)),
      ));
      i++
    ) {
      await new Promise((r) => setTimeout(r, 50));
    }
    const redisUrl = `redis://127.0.0.1:${port}`;
    const last = new Map();
    const waitFor = (check, what) =>
      new Promise((resolve, reject) => {
        const end = Date.now() + 20_000;
        const poll = () =>
          check() ? resolve() : Date.now() > end ? reject(new Error(`timed out: ${what}`)) : setTimeout(poll, 20);
        poll();
      });
    for (let i = 0; i < 3; i++) {
      const c = fork(__filename, ['--member', server.url, redisUrl]);
      c.on('message', (m) => !c.killed && last.set(c, m));
      c.on('error', () => {}); // a send racing the kill below
      children.push(c);
    }
    await waitFor(() => last.size === 3, 'three members');
    const roles = () =>
      [...last.values()]
        .map((m) => m.role)
        .sort()
        .join(', ');
    // The election takes one lease attempt per process; ask until it has settled.
    await waitFor(() => {
      for (const c of children) if (c.connected) c.send('status');
      return roles() === 'reader, reader, writer';
    }, 'one writer');
    console.log(`roles: ${roles()}`);
    console.log(`new-checkout for ada everywhere: ${[...new Set([...last.values()].map((m) => m.variant))].join(', ')}`);

    // Change the flag "in Amplitude": the writer fetches it, publishes, the readers pick it up.
    const changed = flags.map((f) =>
      f.key === 'new-checkout' ? { ...f, segments: [{ variant: 'off' }], metadata: { ...f.metadata, flagVersion: 5 } } : f,
    );
    server.setFlags(changed);
    await waitFor(() => [...last.values()].every((m) => m.variant === 'off'), 'the change');
    const before = Math.max(...[...last.values()].map((m) => m.version));
    await waitFor(() => {
      for (const c of children) if (c.connected) c.send('status');
      return [...last.values()].every((m) => m.version > before && m.version === [...last.values()][0].version);
    }, 'the new version everywhere');
    console.log(`after the change, every process serves: off (published version ${[...last.values()][0].version})`);
    console.log(`flag requests to Amplitude so far: ${server.requests('flags').length} (one writer polls)`);

    // Kill the writer: another process takes the lease when it expires.
    const writer = children.find((c) => last.get(c).role === 'writer');
    writer.kill('SIGKILL');
    last.delete(writer);
    const t0 = Date.now();
    await waitFor(() => {
      for (const c of children) if (c.connected) c.send('status');
      return [...last.values()].some((m) => m.role === 'writer');
    }, 'a new writer');
    console.log(`writer killed; new writer elected in ${Date.now() - t0 < 5000 ? 'under 5 s' : 'over 5 s'}: ${roles()}`);
    console.log(
      'redis keys:',
      execFileSync('redis-cli', ['-p', String(port), '--scan', '--pattern', 'amplitude:fleet:*'])
        .toString()
        .trim()
        .split('\n')
        .map((k) => k.replace(/:[0-9a-f]{64}$/, ':<sha256>'))
        .sort()
        .join(' '),
    );
  } finally {
    for (const c of children) if (c.connected) c.send('exit');
    await server.close();
    cleanup();
  }
}

if (process.argv[2] === '--member') member(process.argv[3], process.argv[4]);
else
  main().catch((err) => {
    console.error(err);
    process.exit(1);
  });
