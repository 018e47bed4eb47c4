/**
 * Bundlers and serverless file tracing, against the package as a user installs
 * it: dist/, package.json and a prebuild (the addon this checkout built, laid
 * out as prebuilds/<platform>-<arch>/...) copied into a temp node_modules with
 * the runtime dependencies, no build/ directory.
 *
 * - @vercel/nft (Vercel, Next.js output tracing) must list the .node file the
 *   loader picks; the traced files alone, copied elsewhere, run on the native engine.
 * - esbuild and webpack bundle an app with the package external; the bundle runs
 *   on the native engine.
 * - The edge-light / worker export conditions resolve to a stub that imports
 *   cleanly and throws one clear error when used.
 * Each bundler runs once per file.
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const root = path.resolve(__dirname, '..', '..');
const NAME = 'amplitude-experiment-native';
let tmp: string;
let pkgDir: string;
let prebuild: string;

const APP = `
const { Experiment, diagnose } = require('${NAME}');
const flag = {
  key: 'f', metadata: { flagType: 'release' },
  segments: [
    { conditions: [[{ selector: ['context', 'user', 'user_properties', 'plan'], op: 'is', values: ['gold'] }]], variant: 'on' },
    { variant: 'off' },
  ],
  variants: { on: { key: 'on', value: 'on' }, off: { key: 'off' } },
};
const client = Experiment.initializeLocal('server-key', { bootstrap: { f: flag }, logLevel: 0 });
const gold = client.evaluateV2({ user_id: 'u', user_properties: { plan: 'gold' } }).f;
const free = client.evaluateV2({ user_id: 'u', user_properties: { plan: 'free' } }).f;
const d = diagnose();
console.log(JSON.stringify({ engine: d.engine, binary: d.binary, fallbackReason: d.fallbackReason, gold: gold && gold.key, free: free && free.key }));
`;

interface AppResult {
  engine: string;
  binary: string | null;
  fallbackReason: string | null;
  gold: string;
  free: string;
}

function run(file: string): AppResult {
  const env = { ...process.env };
  delete env.AMPLITUDE_EXPERIMENT_ENGINE;
  delete env.AMPLITUDE_EXPERIMENT_NATIVE_BINARY;
  delete env.PREBUILDS_ONLY;
  const out = execFileSync(process.execPath, [file], { cwd: path.dirname(file), env, encoding: 'utf8' });
  return JSON.parse(out.trim().split('\n').pop() as string) as AppResult;
}

/** The runtime dependency closure, copied from this checkout's (hoisted) node_modules. */
function copyDependencies(manifestFile: string, into: string, seen: Set<string>): void {
  const manifest = JSON.parse(fs.readFileSync(manifestFile, 'utf8')) as {
    dependencies?: Record<string, string>;
  };
  for (const dep of Object.keys(manifest.dependencies ?? {})) {
    if (seen.has(dep) || !fs.existsSync(path.join(root, 'node_modules', dep))) continue;
    seen.add(dep);
    fs.cpSync(path.join(root, 'node_modules', dep), path.join(into, dep), { recursive: true, dereference: true });
    copyDependencies(path.join(root, 'node_modules', dep, 'package.json'), into, seen);
  }
}

beforeAll(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'aen-bundlers-'));
  const modules = path.join(tmp, 'node_modules');
  pkgDir = path.join(modules, NAME);
  fs.mkdirSync(pkgDir, { recursive: true });
  fs.copyFileSync(path.join(root, 'package.json'), path.join(pkgDir, 'package.json'));
  fs.cpSync(path.join(root, 'dist'), path.join(pkgDir, 'dist'), { recursive: true });
  // The binary this checkout loads, as the prebuild for this platform (the tarball's layout).
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const built = (require('node-gyp-build') as { resolve(dir: string): string }).resolve(root);
  const libc =
    process.platform === 'linux'
      ? (process.report.getReport() as { header: { glibcVersionRuntime?: string } }).header.glibcVersionRuntime
        ? '.glibc'
        : '.musl'
      : '';
  prebuild = path.join(pkgDir, 'prebuilds', `${process.platform}-${process.arch}`, `${NAME}${libc}.node`);
  fs.mkdirSync(path.dirname(prebuild), { recursive: true });
  fs.copyFileSync(built, prebuild);
  copyDependencies(path.join(root, 'package.json'), modules, new Set());
  fs.writeFileSync(path.join(tmp, 'package.json'), '{"name":"app","private":true}\n');
  fs.writeFileSync(path.join(tmp, 'app.js'), APP);
}, 120_000);

afterAll(() => {
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
});

describe('the installed package, unbundled', () => {
  it('loads the prebuild (the baseline the bundles are compared with)', () => {
    const r = run(path.join(tmp, 'app.js'));
    expect(r).toMatchObject({ engine: 'native', binary: fs.realpathSync(prebuild), gold: 'on', free: 'off' });
  });
});

describe('@vercel/nft', () => {
  it('traces the .node file the loader picks, and the traced files alone run natively', async () => {
    const { nodeFileTrace } = await import('@vercel/nft');
    const { fileList } = await nodeFileTrace([path.join(tmp, 'app.js')], { base: tmp });
    const files = [...fileList];
    expect(files).toContain(path.relative(tmp, prebuild));
    expect(files.filter((f) => f.endsWith('.node'))).toEqual([path.relative(tmp, prebuild)]);
    // A serverless deploy ships exactly these files.
    const deploy = path.join(tmp, 'deploy');
    for (const f of files) {
      fs.mkdirSync(path.dirname(path.join(deploy, f)), { recursive: true });
      if (fs.statSync(path.join(tmp, f)).isFile()) fs.copyFileSync(path.join(tmp, f), path.join(deploy, f));
    }
    const r = run(path.join(deploy, 'app.js'));
    expect(r).toMatchObject({ engine: 'native', gold: 'on', free: 'off' });
    expect(r.binary).toBe(fs.realpathSync(path.join(deploy, path.relative(tmp, prebuild))));
  }, 120_000);
});

describe('bundlers, with the package external', () => {
  it('esbuild: the bundle runs on the native engine', async () => {
    const esbuild = await import('esbuild');
    const outfile = path.join(tmp, 'out-esbuild', 'bundle.js');
    await esbuild.build({
      entryPoints: [path.join(tmp, 'app.js')],
      bundle: true,
      platform: 'node',
      external: [NAME],
      outfile,
      logLevel: 'silent',
    });
    expect(fs.readFileSync(outfile, 'utf8')).toContain(`require("${NAME}")`);
    expect(run(outfile)).toMatchObject({ engine: 'native', binary: fs.realpathSync(prebuild), gold: 'on', free: 'off' });
  }, 120_000);

  it('webpack: the bundle runs on the native engine', async () => {
    const { default: webpack } = await import('webpack');
    const outDir = path.join(tmp, 'out-webpack');
    const stats = await new Promise<import('webpack').Stats>((resolve, reject) => {
      webpack(
        {
          mode: 'production',
          target: 'node',
          context: tmp,
          entry: './app.js',
          output: { path: outDir, filename: 'bundle.js' },
          externals: { [NAME]: `commonjs ${NAME}` },
          optimization: { minimize: false },
          infrastructureLogging: { level: 'none' },
        },
        (err, s) => (err || !s ? reject(err ?? new Error('no stats')) : resolve(s)),
      );
    });
    expect(stats.hasErrors(), stats.toString('errors-only')).toBe(false);
    expect(run(path.join(outDir, 'bundle.js'))).toMatchObject({
      engine: 'native',
      binary: fs.realpathSync(prebuild),
      gold: 'on',
      free: 'off',
    });
  }, 120_000);
});

describe('edge runtimes (export condition edge-light)', () => {
  it('bundles with no Node built-ins, imports cleanly, and throws one clear error when used', async () => {
    const esbuild = await import('esbuild');
    const entry = path.join(tmp, 'edge-app.js');
    fs.writeFileSync(
      entry,
      `import { Experiment } from '${NAME}';\n` +
        'let error;\ntry { Experiment.initializeLocal("server-key"); } catch (e) { error = e; }\n' +
        'console.log(JSON.stringify({ imported: typeof Experiment, name: error && error.name, code: error && error.code, message: error && error.message }));\n',
    );
    const outfile = path.join(tmp, 'out-edge', 'bundle.js');
    // platform 'neutral': an import of fs, path, http... would fail the build.
    await esbuild.build({
      entryPoints: [entry],
      bundle: true,
      platform: 'neutral',
      conditions: ['edge-light'],
      format: 'cjs',
      outfile,
      logLevel: 'silent',
    });
    const out = execFileSync(process.execPath, [outfile], { encoding: 'utf8' });
    const r = JSON.parse(out.trim()) as { imported: string; name: string; code: string; message: string };
    expect(r).toMatchObject({ imported: 'object', name: 'EdgeRuntimeError', code: 'AMPLITUDE_EXPERIMENT_EDGE_RUNTIME' });
    expect(r.message).toMatch(/only in the Node\.js runtime.*serverExternalPackages/);
  }, 60_000);
});
