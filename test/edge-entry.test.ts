/**
 * The edge entry (export conditions edge-light, worker, workerd): every name
 * of the main entry, the Node-free ones real and the others stand-ins that
 * throw EdgeRuntimeError when used; nothing in its module graph needs Node
 * built-ins or a package. The built package is loaded as an edge bundler
 * resolves it (`npm test` builds dist/ first).
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import * as edge from '../src/edge';
import * as main from '../src/index';

const root = join(__dirname, '..');
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
  name: string;
  exports: Record<string, Record<string, unknown>>;
};

/** Names only the edge entry has: its error, for `instanceof` and `code` checks. */
const EDGE_ONLY = ['EDGE_RUNTIME_MESSAGE', 'EdgeRuntimeError'];
/** The names that need Node or the addon: stand-ins at the edge. */
const STAND_INS = [
  'Experiment',
  'ExperimentClient',
  'FlagConfigFetcher',
  'FlagConfigPoller',
  'LocalEvaluationClient',
  'RemoteEvaluationClient',
  'diagnose',
  'formatDiagnosis',
];

/** Runs `script` in a fresh Node process at the package root (the package resolves to itself by name). */
function node(args: string[], script: string): string {
  return execFileSync(process.execPath, [...args, '-e', script], {
    cwd: root,
    encoding: 'utf8',
    env: { ...process.env, NODE_NO_WARNINGS: '1' },
  });
}

function throwsEdgeRuntimeError(use: () => unknown): boolean {
  try {
    use();
    return false;
  } catch (err) {
    return err instanceof edge.EdgeRuntimeError && err.code === 'AMPLITUDE_EXPERIMENT_EDGE_RUNTIME';
  }
}

describe('edge entry', () => {
  it('each edge condition resolves to dist/cjs/edge.js', () => {
    const entry = pkg.exports['.'];
    for (const condition of ['edge-light', 'worker', 'workerd']) {
      expect((entry[condition] as { default: string }).default, condition).toBe('./dist/cjs/edge.js');
    }
  });

  it('exports every name of the main entry (require and import), plus its own error', () => {
    const names = (conditions: string[]): { cjs: string[]; esm: string[] } =>
      JSON.parse(
        node(
          [...conditions, '--input-type=module'],
          `import { createRequire } from 'node:module';
           const require = createRequire(process.cwd() + '/');
           const cjs = Object.keys(require(${JSON.stringify(pkg.name)})).filter((n) => n !== '__esModule').sort();
           const esm = Object.keys(await import(${JSON.stringify(pkg.name)})).filter((n) => n !== 'default' && n !== '__esModule').sort();
           console.log(JSON.stringify({ cjs, esm }));`,
        ),
      ) as { cjs: string[]; esm: string[] };
    const fromMain = names([]);
    const fromEdge = names(['--conditions=worker']);
    expect(fromMain.cjs.length).toBeGreaterThan(20);
    expect(fromEdge.cjs).toEqual([...fromMain.cjs, ...EDGE_ONLY].sort());
    expect(fromEdge.esm).toEqual(fromEdge.cjs);
  }, 60_000);

  it('the Node-free names are the main entry’s own; the others throw EdgeRuntimeError when constructed or called', () => {
    const edgeExports = edge as unknown as Record<string, unknown>;
    const mainExports = main as unknown as Record<string, unknown>;
    const standIns: string[] = [];
    for (const name of Object.keys(mainExports)) {
      const value = edgeExports[name];
      if (value === mainExports[name]) continue;
      standIns.push(name);
      if (typeof value === 'function') {
        const fn = value as (...args: unknown[]) => unknown;
        expect(
          throwsEdgeRuntimeError(() => (fn.prototype ? Reflect.construct(fn, ['key']) : fn('key'))),
          name,
        ).toBe(true);
      } else {
        const methods = Object.entries(value as Record<string, (...args: unknown[]) => unknown>);
        expect(methods.map(([key]) => key).sort(), name).toEqual(Object.keys(mainExports[name] as object).sort());
        for (const [key, method] of methods)
          expect(
            throwsEdgeRuntimeError(() => method('key')),
            `${name}.${key}`,
          ).toBe(true);
      }
    }
    expect(standIns.sort()).toEqual(STAND_INS);
    expect(new edge.EdgeRuntimeError().message).toBe(edge.EDGE_RUNTIME_MESSAGE);
  });

  it('loads without Buffer (as in an edge runtime): AmplitudeCookie, enums, errors and TestData work as under Node', () => {
    const cookies = [
      ['device-1.' + Buffer.from('user@example.com').toString('base64') + '.x.y', false],
      ['d.4pyTIMOgIGxhIG1vZGU', false],
      [main.AmplitudeCookie.generate('dév/ice', true), true],
      ['not base64 at all!', true],
    ] as const;
    // The unparsable cookie logs its error on the console, here and in the child.
    const quiet = vi.spyOn(console, 'error').mockImplementation(() => undefined);
    const expected = cookies.map(([c, newFormat]) => main.AmplitudeCookie.parse(c, newFormat));
    expect(quiet).toHaveBeenCalledTimes(1);
    quiet.mockRestore();
    const out = node(
      ['--conditions=worker'],
      `delete globalThis.Buffer;
       const m = require(${JSON.stringify(pkg.name)});
       console.error = () => {};
       const td = new m.TestData();
       td.update(td.flag('f').variations('on').fallthroughVariation('on'));
       const cache = new m.InMemoryFlagConfigCache();
       console.log(JSON.stringify({
         hasBuffer: typeof Buffer !== 'undefined',
         parsed: ${JSON.stringify(cookies)}.map(([c, f]) => m.AmplitudeCookie.parse(c, f)),
         generated: m.AmplitudeCookie.generate('dév/ice', true),
         logLevel: m.LogLevel.Warn,
         zone: m.ServerZone.EU,
         fetchError: new m.FetchError(404, 'x').statusCode,
         flags: td.configs(),
         cached: cache.getAllCached(),
         version: m.VERSION,
       }));`,
    );
    const r = JSON.parse(out) as Record<string, unknown>;
    expect(r.hasBuffer).toBe(false);
    expect(r.parsed).toEqual(expected.map((u) => JSON.parse(JSON.stringify(u))));
    expect(r.generated).toBe(main.AmplitudeCookie.generate('dév/ice', true));
    expect(r).toMatchObject({ logLevel: main.LogLevel.Warn, zone: main.ServerZone.EU, fetchError: 404, version: main.VERSION });
    const td = new main.TestData();
    td.update(td.flag('f').variations('on').fallthroughVariation('on'));
    expect(r.flags).toEqual(JSON.parse(JSON.stringify(td.configs())));
    expect(r.cached).toEqual({});
  }, 60_000);

  it('nothing in its module graph requires a Node built-in or a package (the main entry does)', () => {
    expect(externalRequires(join(root, 'dist', 'cjs', 'edge.js'))).toEqual([]);
    expect(externalRequires(join(root, 'dist', 'cjs', 'index.js')).length).toBeGreaterThan(0);
  });
});

/** Every `require('x')` with a non-relative x reachable from `file` through relative requires (comments ignored). */
function externalRequires(file: string): string[] {
  const seen = new Set<string>();
  const external: string[] = [];
  const visit = (path: string): void => {
    if (seen.has(path)) return;
    seen.add(path);
    const code = readFileSync(path, 'utf8')
      .replace(/\/\*[\s\S]*?\*\//g, '')
      .replace(/^\s*\/\/.*$/gm, '');
    for (const [, specifier] of code.matchAll(/\brequire\(\s*["']([^"']+)["']\s*\)/g)) {
      if (!specifier.startsWith('.')) {
        external.push(`${specifier} (from ${relative(root, path)})`);
        continue;
      }
      const base = resolve(dirname(path), specifier);
      const target = [`${base}.js`, join(base, 'index.js'), base].find((p) => existsSync(p) && p.endsWith('.js'));
      if (target === undefined) throw new Error(`${relative(root, path)}: cannot resolve ${specifier}`);
      visit(target);
    }
  };
  visit(file);
  return external;
}
