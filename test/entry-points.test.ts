/**
 * Every entry point in package.json `exports` loads as a user loads it (the
 * package resolved by name from dist/, in a fresh Node process): `require` and
 * `import` both work and give the same names. `npm test` builds dist/ first.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { tempDir } from './support';

const root = join(__dirname, '..');
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
  name: string;
  main: string;
  types: string;
  exports: Record<string, string | { import: Record<string, string>; require: Record<string, string> }>;
};
const subpaths = Object.keys(pkg.exports).filter((s) => s !== './package.json');

/** Names each specifier exports through require() and import(), from one child process. */
function loadAll(): Record<string, { cjs: string[]; esm: string[] }> {
  const specifiers = subpaths.map((s) => pkg.name + s.slice(1));
  const script = `
    const out = {};
    (async () => {
      for (const s of ${JSON.stringify(specifiers)}) {
        out[s] = { cjs: Object.keys(require(s)).sort(), esm: Object.keys(await import(s)).filter((n) => n !== 'default').sort() };
      }
      console.log(JSON.stringify(out));
    })().catch((e) => { console.error(e); process.exit(1); });`;
  const stdout = execFileSync(process.execPath, ['-e', script], {
    cwd: root,
    encoding: 'utf8',
    env: { ...process.env, NODE_NO_WARNINGS: '1' },
  });
  return JSON.parse(stdout);
}

describe('package entry points', () => {
  it('every exports target and the main/types fields point at built files', () => {
    const targets = [pkg.main, pkg.types];
    for (const entry of Object.values(pkg.exports)) {
      if (typeof entry === 'string') targets.push(entry);
      else targets.push(...Object.values(entry.import), ...Object.values(entry.require));
    }
    const missing = targets.filter((t) => !existsSync(join(root, t)));
    expect(missing, 'run `npm run build:ts` first').toEqual([]);
  });

  it('require() and import() load every entry point with the same names', () => {
    const loaded = loadAll();
    expect(Object.keys(loaded)).toEqual(subpaths.map((s) => pkg.name + s.slice(1)));
    for (const [specifier, { cjs, esm }] of Object.entries(loaded)) {
      expect(cjs.length, specifier).toBeGreaterThan(0);
      expect(esm, specifier).toEqual(cjs.filter((n) => n !== '__esModule'));
    }
    expect(loaded[pkg.name].cjs).toEqual(
      expect.arrayContaining(['Experiment', 'LocalEvaluationClient', 'RemoteEvaluationClient']),
    );
    expect(loaded[`${pkg.name}/dev-server`].cjs).toContain('createLocalServer');
  }, 60_000);

  it.each([
    ['openfeature', '@openfeature/server-sdk'],
    ['opentelemetry', '@opentelemetry/api'],
  ])(
    'without its peer, import() of the %s subpath rejects, and a caller that catches it carries on',
    (name, peer) => {
      // dist/ copied where no node_modules can resolve the peer.
      const dist = join(tempDir('no-peer'), 'dist');
      cpSync(join(root, 'dist'), dist, { recursive: true });
      const entry = pathToFileURL(join(dist, 'esm', `${name}.js`)).href;
      const script = `try { await import(${JSON.stringify(entry)}); console.log('loaded'); } catch (e) { console.log(e.code, e.message.split('\\n')[0]); } console.log('alive');`;
      const run = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' });
      expect(run.stdout).toContain(`MODULE_NOT_FOUND Cannot find module '${peer}'`);
      expect(run.stdout).toContain('alive');
      expect(run.status, run.stderr).toBe(0);
    },
    60_000,
  );
});
