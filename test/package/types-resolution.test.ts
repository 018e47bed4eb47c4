/**
 * A consumer project type-checks against the built package (dist/, from
 * `npm run build:ts`) under each moduleResolution users have: node10 (no
 * `exports` support: typesVersions maps the subpaths), node16 (CommonJS and
 * ESM files) and bundler. Also: the public Variant types are readonly yet
 * assignable to and from plain objects and the official SDK's types.
 * In-process TypeScript with one shared source-file cache, so the lib files
 * are parsed once for all four programs.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Variants as OfficialVariants } from '@amplitude/experiment-node-server';
import ts from 'typescript';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Variants } from '../../src/types';

const root = path.resolve(__dirname, '..', '..');
const pkg = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')) as {
  name: string;
  exports: Record<string, unknown>;
  typesVersions: Record<string, Record<string, string[]>>;
};

const CONSUMER = `
import { LocalEvaluationClient, RemoteEvaluationClient, ConfigError, type Variant, type Variants } from '${pkg.name}';
import { createLocalServer } from '${pkg.name}/dev-server';
import { AmplitudeProvider } from '${pkg.name}/openfeature';

export const local: typeof LocalEvaluationClient = LocalEvaluationClient;
export const remote: typeof RemoteEvaluationClient = RemoteEvaluationClient;
export const err: typeof ConfigError = ConfigError;
export const server: typeof createLocalServer = createLocalServer;
export const provider: typeof AmplitudeProvider = AmplitudeProvider;

// Readonly, but a plain object goes in and a Variant comes out as a plain one.
const mutable: { key?: string; value?: string; metadata?: Record<string, unknown> } = { key: 'on' };
export const asVariant: Variant = mutable;
export const asVariants: Variants = { flag: mutable };
export const back: { key?: string; value?: string } = asVariant;
export function mutate(v: Variant, vs: Variants): void {
  // @ts-expect-error Variant fields are readonly: the objects are frozen
  v.key = 'changed';
  // @ts-expect-error Variants are readonly too
  vs.flag = v;
  // @ts-expect-error and so is metadata
  v.metadata!.default = true;
}
`;

interface Setup {
  name: string;
  options: ts.CompilerOptions;
  file: string;
}

let dir: string;
const sourceCache = new Map<string, ts.SourceFile | undefined>();

function check(setup: Setup): string[] {
  const host = ts.createCompilerHost(setup.options);
  const original = host.getSourceFile.bind(host);
  host.getSourceFile = (fileName, languageVersion, onError) => {
    if (fileName.startsWith(dir)) return original(fileName, languageVersion, onError);
    const key = `${fileName}|${String(typeof languageVersion === 'object' ? languageVersion.languageVersion : languageVersion)}`;
    if (!sourceCache.has(key)) sourceCache.set(key, original(fileName, languageVersion, onError));
    return sourceCache.get(key);
  };
  const program = ts.createProgram([path.join(dir, setup.file)], setup.options, host);
  return ts
    .getPreEmitDiagnostics(program)
    .map((d) => `${d.file ? path.relative(dir, d.file.fileName) : ''}: ${ts.flattenDiagnosticMessageText(d.messageText, '\n')}`);
}

beforeAll(() => {
  expect(fs.existsSync(path.join(root, 'dist', 'cjs', 'index.d.ts')), 'run npm run build:ts first (npm test does)').toBe(true);
  dir = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'types-consumer-')));
  fs.mkdirSync(path.join(dir, 'node_modules'));
  fs.symlinkSync(root, path.join(dir, 'node_modules', pkg.name), 'dir');
  fs.writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ name: 'consumer', type: 'commonjs' }));
  fs.writeFileSync(path.join(dir, 'index.ts'), CONSUMER);
  fs.writeFileSync(path.join(dir, 'index.mts'), CONSUMER);
});
afterAll(() => {
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

const common: ts.CompilerOptions = {
  strict: true,
  noEmit: true,
  skipLibCheck: true,
  target: ts.ScriptTarget.ES2022,
  lib: ['lib.es2022.d.ts'],
  types: ['node'],
  typeRoots: [path.join(root, 'node_modules', '@types')],
};

describe('a consumer project type-checks', () => {
  it.each<Setup>([
    {
      name: 'node10 (CommonJS, no exports map)',
      file: 'index.ts',
      options: { ...common, module: ts.ModuleKind.CommonJS, moduleResolution: ts.ModuleResolutionKind.Node10 },
    },
    {
      name: 'node16, a CommonJS file',
      file: 'index.ts',
      options: { ...common, module: ts.ModuleKind.Node16, moduleResolution: ts.ModuleResolutionKind.Node16 },
    },
    {
      name: 'node16, an ESM file',
      file: 'index.mts',
      options: { ...common, module: ts.ModuleKind.Node16, moduleResolution: ts.ModuleResolutionKind.Node16 },
    },
    {
      name: 'bundler',
      file: 'index.ts',
      options: { ...common, module: ts.ModuleKind.ESNext, moduleResolution: ts.ModuleResolutionKind.Bundler },
    },
  ])('$name', (setup) => {
    expect(check(setup)).toEqual([]);
  });
});

describe('drop-in types', () => {
  it("readonly Variants and the official SDK's Variants assign both ways (checked by npm run typecheck)", () => {
    const theirs: OfficialVariants = { flag: { key: 'on', metadata: { default: false } } };
    const ours: Variants = theirs;
    const again: OfficialVariants = ours;
    expect(again.flag.key).toBe('on');
  });
});

describe('package.json', () => {
  it('every exports subpath with types has a typesVersions entry (node10 resolution), and each points at a file', () => {
    const subpaths = Object.keys(pkg.exports)
      .filter((k) => k !== '.' && !k.endsWith('.json'))
      .map((k) => k.slice(2));
    const mapped = pkg.typesVersions['*'];
    expect(Object.keys(mapped).sort()).toEqual(subpaths.sort());
    for (const targets of Object.values(mapped)) for (const t of targets) expect(fs.existsSync(path.join(root, t)), t).toBe(true);
  });

  it('has a LICENSE matching its license field, and repository, homepage and bugs', () => {
    const full = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')) as Record<string, unknown>;
    expect(full.license).toBe('MIT');
    expect(fs.readFileSync(path.join(root, 'LICENSE'), 'utf8')).toMatch(/^MIT License/);
    expect(full.repository).toMatchObject({ type: 'git' });
    expect(typeof full.homepage).toBe('string');
    expect(full.bugs).toHaveProperty('url');
  });
});
