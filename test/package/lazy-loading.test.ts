/**
 * What the built package loads, and when (dist/, from `npm run build:ts`, in
 * fresh Node processes): `require()` loads only the package's entry; each
 * export loads its module at first use, a client only what it needs to be
 * constructed (never undici, with Node's http, or the other kind of client),
 * and each feature's modules load when a client is configured for it.
 * Under vitest the lazy requires of src/ are imported eagerly (see
 * test/support/lazy-require.ts), so this file is also what runs each lazy
 * require of dist/ for real.
 */
import { execFile, execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cohortFlag } from '../support/flags';
import { useLocalServer } from '../support/local-server';
import { tempDir } from '../support/temp';

const root = join(__dirname, '..', '..');

interface Loaded {
  /** Modules of dist/cjs, relative to it. */
  own: string[];
  /** Packages from node_modules (name, or scope/name). */
  packages: string[];
  /** Native addons (.node files). */
  addons: number;
  /** Node built-ins loaded since the process started. */
  builtins: string[];
}

/**
 * Runs `steps` (a function body with `sdk`, the package required by name, in
 * scope) in a fresh process, after `require()` of the package; returns what
 * was loaded after require() and after the steps.
 */
function loadedBy(steps: string, env: Record<string, string> = {}): { afterRequire: Loaded; afterSteps: Loaded } {
  const stdout = execFileSync(process.execPath, ['-e', loadScript(steps)], {
    cwd: root,
    encoding: 'utf8',
    env: { ...process.env, NODE_NO_WARNINGS: '1', ...env },
  });
  return JSON.parse(stdout) as { afterRequire: Loaded; afterSteps: Loaded };
}

/** loadedBy, without blocking this process: for steps that talk to a server running in it. */
function loadedByAsync(steps: string): Promise<{ afterRequire: Loaded; afterSteps: Loaded }> {
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      ['-e', loadScript(steps)],
      { cwd: root, encoding: 'utf8', env: { ...process.env, NODE_NO_WARNINGS: '1' } },
      (error, stdout, stderr) => {
        if (error) reject(new Error(`${error.message}\n${stderr}`));
        else resolve(JSON.parse(stdout) as { afterRequire: Loaded; afterSteps: Loaded });
      },
    );
  });
}

function loadScript(steps: string): string {
  return `
    const path = require('path');
    const dist = path.join(process.cwd(), 'dist', 'cjs') + path.sep;
    const startup = new Set(process.moduleLoadList);
    function loaded() {
      const files = Object.keys(require.cache);
      const packages = new Set();
      for (const f of files) {
        const m = /node_modules[\\\\/]((?:@[^\\\\/]+[\\\\/])?[^\\\\/]+)/.exec(f);
        if (m) packages.add(m[1].replace(/\\\\/g, '/'));
      }
      return {
        own: files.filter((f) => f.startsWith(dist)).map((f) => f.slice(dist.length).split(path.sep).join('/')),
        packages: [...packages],
        addons: files.filter((f) => f.endsWith('.node')).length,
        builtins: process.moduleLoadList.filter((m) => !startup.has(m) && m.startsWith('NativeModule ')).map((m) => m.slice(13)),
      };
    }
    const silent = { debug() {}, info() {}, warn() {}, error() {} };
    const sdk = require('amplitude-experiment-native');
    const afterRequire = loaded();
    (async () => {
      ${steps}
      process.stdout.write(JSON.stringify({ afterRequire, afterSteps: loaded() }));
      process.exit(0);
    })().catch((e) => { console.error(e); process.exit(1); });`;
}

/** The modules `steps` loaded beyond what require() had. */
function newModules(steps: string, env?: Record<string, string>): string[] {
  const { afterRequire, afterSteps } = loadedBy(steps, env);
  const before = new Set(afterRequire.own);
  return afterSteps.own.filter((m) => !before.has(m));
}

const FLAGS = JSON.stringify([
  {
    key: 'f',
    metadata: { evaluationMode: 'local', flagType: 'release' },
    segments: [{ variant: 'on' }],
    variants: { on: { key: 'on', value: 'on' } },
  },
]);

/** Steps that only read the export names and getters: what require() loaded is unchanged by them. */
const READ_EXPORTS = `
      const names = Object.keys(sdk);
      if (names.length < 20 || !names.includes('LocalEvaluationClient') || !names.includes('RemoteEvaluationClient'))
        throw new Error('missing names: ' + names.join());
      for (const n of names) {
        const d = Object.getOwnPropertyDescriptor(sdk, n);
        if (n !== '__esModule' && (!d.enumerable || typeof d.get !== 'function')) throw new Error(n + ' is not a getter');
      }`;
/** `Experiment.initializeLocal` with defaults (a polling client). */
const INITIALIZE_LOCAL = `sdk.Experiment.initializeLocal('k', { logLevel: 0, loggerProvider: silent });`;

/** One process for the steps two tests look at from different sides (a Node process costs ~0.2 s of CPU). */
function shared(steps: string): () => { afterRequire: Loaded; afterSteps: Loaded } {
  let result: { afterRequire: Loaded; afterSteps: Loaded } | undefined;
  return () => (result ??= loadedBy(steps));
}
const readExports = shared(READ_EXPORTS);
const initializeLocal = shared(INITIALIZE_LOCAL);

describe('what require() of the package loads', () => {
  it('only its entry: each export loads its module at first use', () => {
    const { afterRequire } = readExports();
    expect(afterRequire.packages).toEqual([]);
    expect(afterRequire.addons).toBe(0);
    expect(afterRequire.own).toEqual(['index.js']);
    for (const heavy of ['zlib', 'v8', 'vm', 'crypto', 'os', 'http', 'https', 'net', 'tls', 'stream', 'perf_hooks']) {
      expect(afterRequire.builtins, heavy).not.toContain(heavy);
    }
  });

  it('the export names and getters are all there before any module loads', () => {
    const { afterSteps } = readExports();
    expect(afterSteps.own).toEqual(['index.js']);
  });

  it('a local client loads the local modules, not the remote client; a remote client not the local one', () => {
    const local = initializeLocal().afterSteps.own;
    expect(local).toEqual(expect.arrayContaining(['factory.js', 'local/factory.js', 'local/client.js']));
    expect(local.filter((m) => m.startsWith('remote/') || m === 'testing/test-data.js' || m === 'cookie.js')).toEqual([]);

    const remote = loadedBy(`
      const { Experiment } = sdk;
      Experiment.initializeRemote('k', { logLevel: 0, loggerProvider: silent });`).afterSteps;
    expect(remote.own).toEqual(expect.arrayContaining(['factory.js', 'remote/factory.js', 'remote/client.js']));
    expect(remote.own.filter((m) => m.startsWith('local/') || m.startsWith('engine/'))).toEqual([]);
    expect(remote.addons).toBe(0);
  });

  it('what a local client is constructed with: no other dependency, no optional feature, no HTTP stack yet', () => {
    const { afterSteps } = loadedBy(`new sdk.LocalEvaluationClient('k', { logLevel: 0, loggerProvider: silent });`);
    expect(afterSteps.packages.filter((p) => p !== 'node-gyp-build')).toEqual([]);
    for (const heavy of ['zlib', 'v8', 'vm', 'http', 'https', 'tls']) {
      expect(afterSteps.builtins, heavy).not.toContain(heavy);
    }
    const lazy = afterSteps.own.filter(
      (m) =>
        /^(redis|proxy|openfeature|opentelemetry|dev-server)\//.test(m) ||
        /^local\/(stream|cohorts|exposure|persistence|file-source|analytics-transport|release-memory|hooks|flag-diff)\.js$/.test(
          m,
        ) ||
        /^local\/sources\/(file|stream|last-known-good|data-source)\.js$/.test(m) ||
        /^util\/(undici|unref-connector)\.js$/.test(m) ||
        /^engine\/(js-engine|details|cohort-store)\.js$/.test(m),
    );
    expect(lazy).toEqual([]);
  });

  it('constructing a polling local client loads the addon and the native engine, not undici', () => {
    const { afterSteps } = initializeLocal();
    expect(afterSteps.addons).toBe(1);
    expect(afterSteps.own).toContain('engine/native-engine.js');
    expect(afterSteps.packages).not.toContain('undici');
  });

  it("a polling client's requests go through Node's http, without undici; proxyFromEnv loads undici", () => {
    const start = (options: string): string => `
      const client = sdk.Experiment.initializeLocal('k', { serverUrl: 'http://127.0.0.1:1', ${options} logLevel: 0, loggerProvider: silent, startTimeoutMillis: 2000 });
      await client.start().catch(() => undefined);
      client.stop();`;
    const polling = loadedBy(start('')).afterSteps;
    expect(polling.builtins).toContain('http');
    expect(polling.packages).not.toContain('undici');
    expect(loadedBy(start('proxyFromEnv: true,')).afterSteps.packages).toContain('undici');
  });
});

describe('a local client streaming flags and downloading cohorts', () => {
  const cohortKeys = { apiKey: 'cohort-api', secretKey: 'cohort-secret' };
  const server = useLocalServer({
    flags: [cohortFlag('f', 'c1')],
    apiKeys: ['server-key'],
    cohortKeys: [cohortKeys],
    cohorts: [{ cohortId: 'c1', memberIds: ['u1'] }],
  });

  it("uses Node's http for both, without loading undici", async () => {
    const { afterSteps } = await loadedByAsync(`
      const url = ${JSON.stringify(server.url)};
      const client = sdk.Experiment.initializeLocal('server-key', {
        serverUrl: url,
        streamUpdates: true,
        streamServerUrl: url,
        cohortSyncConfig: { ...${JSON.stringify(cohortKeys)}, cohortServerUrl: url },
        loggerProvider: silent,
      });
      await client.start();
      const source = client.status().source;
      if (source !== 'stream') throw new Error('flags came from ' + source + ', not the stream');
      const member = client.evaluateV2({ user_id: 'u1' }).f?.key;
      const other = client.evaluateV2({ user_id: 'u2' }).f?.key;
      if (member !== 'on' || other !== 'off') throw new Error('cohort not applied: ' + member + ', ' + other);
      await client.close();`);
    expect(server.requests('stream').length).toBeGreaterThanOrEqual(1);
    expect(server.requests('cohort').map((r) => r.status)).toContain(200);
    expect(afterSteps.builtins).toContain('http');
    expect(afterSteps.packages).not.toContain('undici');
  });
});

describe('each feature loads its modules when a client is configured for it', () => {
  it('flagsFile, persistence, details', () => {
    const dir = tempDir('lazy');
    const file = join(dir, 'flags.json');
    writeFileSync(file, FLAGS);
    const loaded = newModules(`
      const client = new sdk.LocalEvaluationClient('k', { flagsFile: ${JSON.stringify(file)}, persistence: { path: ${JSON.stringify(join(dir, 'lkg.json'))} }, logLevel: 0, loggerProvider: silent });
      await client.start();
      if (client.evaluateV2Details({ device_id: 'd' }).f.variant.key !== 'on') throw new Error('wrong variant');
      await client.close();`);
    expect(loaded).toEqual(
      expect.arrayContaining([
        'local/sources/file.js',
        'local/file-source.js',
        'local/persistence.js',
        'local/sources/last-known-good.js',
        'engine/details.js',
      ]),
    );
    expect(loaded).not.toContain('local/stream.js');
  });

  it('streamUpdates, cohortSyncConfig, exposureConfig, evaluationProxyConfig', () => {
    const loaded = newModules(`
      new sdk.LocalEvaluationClient('k', {
        streamUpdates: true,
        cohortSyncConfig: { apiKey: 'a', secretKey: 's' },
        exposureConfig: { apiKey: 'a' },
        evaluationProxyConfig: { proxyUrl: 'http://127.0.0.1:1' },
        logLevel: 0,
        loggerProvider: silent,
      });`);
    expect(loaded).toEqual(
      expect.arrayContaining([
        'local/sources/stream.js',
        'local/stream.js',
        'local/cohorts.js',
        'engine/cohort-store.js',
        'local/exposure.js',
        'proxy/memberships.js',
      ]),
    );
    expect(loaded.filter((m) => m.startsWith('redis/'))).toEqual([]);
  });

  it('a data source, hooks, update listeners', () => {
    const loaded = newModules(`
      const td = new sdk.TestData();
      const client = new sdk.LocalEvaluationClient('k', { dataSource: td, hooks: [{ before() {} }], logLevel: 0, loggerProvider: silent });
      let updates = 0;
      client.on('update', () => updates++);
      await client.start();
      td.update(td.flag('f').on());
      if (updates !== 1 || client.evaluateV2({ device_id: 'd' }).f === undefined) throw new Error('no update');`);
    expect(loaded).toEqual(expect.arrayContaining(['local/sources/data-source.js', 'local/hooks.js', 'local/flag-diff.js']));
  });

  it.each([
    ['fleet', 'redis/fleet-source.js'],
    ['evaluation-proxy', 'proxy/redis-plan.js'],
  ])('redisConfig mode %s', (mode, module) => {
    const loaded = newModules(`
      const client = new sdk.LocalEvaluationClient('k', { redisConfig: { mode: '${mode}', url: 'redis://127.0.0.1:1' }, logLevel: 0, loggerProvider: silent });
      client.stop();`);
    expect(loaded).toEqual(expect.arrayContaining(['redis/config.js', 'redis/connection.js', module]));
  });

  it('the JS engine, when it is selected', () => {
    const loaded = newModules(
      `const client = new sdk.LocalEvaluationClient('k', { bootstrap: ${JSON.stringify(FLAGS)}, logLevel: 0, loggerProvider: silent });
       if (client.evaluateV2({ device_id: 'd' }).f.key !== 'on') throw new Error('wrong variant');`,
      { AMPLITUDE_EXPERIMENT_ENGINE: 'js' },
    );
    expect(loaded).toContain('engine/js-engine.js');
    expect(loaded).not.toContain('engine/native-engine.js');
  });
});
