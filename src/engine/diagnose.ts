/**
 * Engine selection and `diagnose()`: which engine runs, from which binary, and
 * why the JS fallback was chosen when it was.
 *
 * Wiring (src/engine/index.ts):
 *
 *   export function loadEngine(): Engine {
 *     return (engine ??= selectEngine(() => {
 *       const binary = require('node-gyp-build').resolve(packageRoot); // or however index.ts finds it
 *       return { engine: wrapNative(require(binary)), binary };
 *     }));
 *   }
 *   export function diagnose(): EngineDiagnosis { loadEngine(); return getDiagnosis(); }
 *
 * Environment:
 *   AMPLITUDE_EXPERIMENT_ENGINE=js      use the JS engine, do not try the addon (no warning)
 *   AMPLITUDE_EXPERIMENT_ENGINE=native  the addon must load: selectEngine throws instead of falling back
 *   (unset / anything else)             try the addon, fall back to JS with one warning
 */
import type { Engine } from './types';
import { lazy } from '../util/lazy';
import { errorMessage } from '../util/error-message';

// The pure-JS engine is only loaded when it is used (no addon, or AMPLITUDE_EXPERIMENT_ENGINE=js).
// eslint-disable-next-line @typescript-eslint/no-require-imports -- a literal require, loaded lazily, visible to bundlers and file tracers
const loadJsEngine = lazy(() => require('./js-engine') as typeof import('./js-engine'));

export const ENGINE_ENV = 'AMPLITUDE_EXPERIMENT_ENGINE';

export interface EngineDiagnosis {
  /** The engine in use; null until an engine has been selected. */
  engine: 'native' | 'js' | null;
  /** Absolute path of the loaded .node file (native engine only). */
  binary: string | null;
  platform: string;
  arch: string;
  /** 'glibc' or 'musl' on Linux, null elsewhere. */
  libc: 'glibc' | 'musl' | null;
  /** Runtime glibc version (Linux with glibc only). */
  glibcVersion: string | null;
  /** Node-API version of this Node (`process.versions.napi`); the addon needs 8. */
  napiVersion: number | null;
  nodeVersion: string;
  /** Why the JS engine runs instead of the native one; null when native runs. */
  fallbackReason: string | null;
  /** The raw load error message, when there was one. */
  loadError: string | null;
}

/**
 * What a user runs for a source build once cmake and a compiler are there: the
 * build tools are devDependencies, never installed for users (the same command
 * as scripts/install.js prints).
 */
export const SOURCE_BUILD_COMMAND =
  'npm install --save-dev cmake-js@8 node-addon-api@8 && npm rebuild amplitude-experiment-native';

/** Node-API version the addon is built for (package.json binary.napi_versions). */
export const REQUIRED_NAPI_VERSION = 8;

let selected:
  { kind: 'native' | 'js'; binary: string | null; fallbackReason: string | null; loadError: string | null } | undefined;
let warned = false;

interface ProcessReportHeader {
  glibcVersionRuntime?: string;
}

let libcCache: { libc: 'glibc' | 'musl' | null; glibcVersion: string | null } | undefined;

/**
 * 'glibc' | 'musl' on Linux, else null: LIBC env first (as node-gyp-build), then
 * the process report's glibc version (musl when there is none). Computed once:
 * a process report takes ~10 ms.
 */
export function detectLibc(): { libc: 'glibc' | 'musl' | null; glibcVersion: string | null } {
  return (libcCache ??= computeLibc());
}

function computeLibc(): { libc: 'glibc' | 'musl' | null; glibcVersion: string | null } {
  if (process.platform !== 'linux') return { libc: null, glibcVersion: null };
  let glibcVersion: string | null = null;
  try {
    const report = process.report?.getReport() as unknown as { header?: ProcessReportHeader } | undefined;
    glibcVersion = report?.header?.glibcVersionRuntime ?? null;
  } catch {
    // report unavailable: fall through to the env/file rule
  }
  if (process.env.LIBC === 'musl' || process.env.LIBC === 'glibc') {
    return { libc: process.env.LIBC, glibcVersion };
  }
  return { libc: glibcVersion ? 'glibc' : 'musl', glibcVersion };
}

function napiVersion(): number | null {
  const v = Number(process.versions.napi);
  return Number.isFinite(v) ? v : null;
}

/** The platform as prebuilds/ names it, with the libc tag: e.g. "linux-x64 (glibc 2.36)". */
function platformLabel(): string {
  const { libc, glibcVersion } = detectLibc();
  const tag = libc ? ` (${libc}${glibcVersion ? ' ' + glibcVersion : ''})` : '';
  return `${process.platform}-${process.arch}${tag}`;
}

/** One sentence on why the native addon did not load, from the error node-gyp-build or dlopen gave. */
export function describeNativeLoadFailure(err: unknown): string {
  const message = errorMessage(err);
  const napi = napiVersion();
  if (napi !== null && napi < REQUIRED_NAPI_VERSION) {
    return `this Node has Node-API ${napi}; the native engine needs Node-API ${REQUIRED_NAPI_VERSION}`;
  }
  if (/No native build was found/i.test(message)) {
    return (
      `no prebuilt binary for ${platformLabel()} and no local build ` +
      `(install scripts disabled, or no source build: it needs cmake, a C++17 compiler and \`${SOURCE_BUILD_COMMAND}\`; ` +
      `where npm blocks dependency install scripts, \`npm install-scripts approve amplitude-experiment-native\` first)`
    );
  }
  const glibc = /GLIBC(?:XX)?_[0-9.]+' not found/.exec(message);
  if (glibc) return `the binary needs a newer C library than this system has (${glibc[0]})`;
  if (
    /wrong ELF class|invalid ELF header|Exec format error|incompatible architecture|mach-o file, but is an incompatible/i.test(
      message,
    )
  ) {
    return `the binary is for another platform or architecture than ${platformLabel()}`;
  }
  if (/cannot open shared object file|Library not loaded|image not found/i.test(message)) {
    return `a library the binary needs is missing: ${firstLine(message)}`;
  }
  if (/Module did not self-register|NODE_MODULE_VERSION/i.test(message)) {
    return `the binary does not match this Node: ${firstLine(message)}`;
  }
  if (/Cannot find module/i.test(message)) return `native loader not found: ${firstLine(message)}`;
  return `the native engine failed to load: ${firstLine(message)}`;
}

function firstLine(s: string): string {
  const line = s.split('\n', 1)[0] ?? s;
  return line.length > 300 ? line.slice(0, 300) + '…' : line;
}

/**
 * Select the engine once: the native one from `loadNative()` unless disabled,
 * else the JS engine, recording why for `getDiagnosis()`. Emits one process
 * warning (code AMPLITUDE_EXPERIMENT_JS_ENGINE) on an unrequested fallback.
 */
export function selectEngine(
  loadNative: () => { engine: Engine; binary: string },
  options: { warn?: (message: string) => void } = {},
): Engine {
  const mode = (process.env[ENGINE_ENV] ?? '').trim().toLowerCase();
  if (mode === 'js') {
    selected = { kind: 'js', binary: null, fallbackReason: `${ENGINE_ENV}=js`, loadError: null };
    return loadJsEngine().createJsEngine();
  }
  try {
    const { engine, binary } = loadNative();
    selected = { kind: 'native', binary, fallbackReason: null, loadError: null };
    return engine;
  } catch (err) {
    const reason = describeNativeLoadFailure(err);
    if (mode === 'native') {
      throw new Error(`${ENGINE_ENV}=native but the native engine did not load: ${reason}`, { cause: err });
    }
    selected = {
      kind: 'js',
      binary: null,
      fallbackReason: reason,
      loadError: errorMessage(err),
    };
    if (!warned) {
      warned = true;
      const message =
        `amplitude-experiment-native: using the pure-JS engine (slower) because ${reason}. ` +
        'Flag evaluation is correct either way; see diagnose().';
      if (options.warn) options.warn(message);
      else process.emitWarning(message, { code: 'AMPLITUDE_EXPERIMENT_JS_ENGINE' });
    }
    return loadJsEngine().createJsEngine();
  }
}

/** What selectEngine decided, plus the platform facts. */
export function getDiagnosis(): EngineDiagnosis {
  const { libc, glibcVersion } = detectLibc();
  return {
    engine: selected?.kind ?? null,
    binary: selected?.binary ?? null,
    platform: process.platform,
    arch: process.arch,
    libc,
    glibcVersion,
    napiVersion: napiVersion(),
    nodeVersion: process.versions.node,
    fallbackReason: selected?.fallbackReason ?? null,
    loadError: selected?.loadError ?? null,
  };
}

/** Human-readable multi-line form of a diagnosis (for logs and `node -p`). */
export function formatDiagnosis(d: EngineDiagnosis = getDiagnosis()): string {
  const lines = [
    `engine:   ${d.engine ?? 'not loaded yet'}`,
    `binary:   ${d.binary ?? '-'}`,
    `platform: ${d.platform}-${d.arch}${d.libc ? ` ${d.libc}${d.glibcVersion ? ' ' + d.glibcVersion : ''}` : ''}`,
    `node:     ${d.nodeVersion} (Node-API ${d.napiVersion ?? '?'})`,
  ];
  if (d.fallbackReason) lines.push(`fallback: ${d.fallbackReason}`);
  return lines.join('\n');
}

/** For tests: forget the selection (the next selectEngine decides again). */
export function resetEngineSelection(): void {
  selected = undefined;
  warned = false;
}
