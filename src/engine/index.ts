/**
 * The engine boundary: the one place that loads the native addon. Everything
 * above it talks to the Engine interface, so a pure-JS engine can stand in.
 */
import * as fs from 'fs';
import * as path from 'path';
import type { NativeAddon } from './addon';
import type { Engine } from './types';
import { getDiagnosis, selectEngine, type EngineDiagnosis } from './diagnose';
import { lazy } from '../util/lazy';

// Loaded with the first local client (a process that only uses remote evaluation never needs it).
// eslint-disable-next-line @typescript-eslint/no-require-imports -- a literal require, loaded lazily, visible to bundlers and file tracers
const loadNativeEngine = lazy(() => require('./native-engine') as typeof import('./native-engine'));

export type { Engine, FlagSnapshot, RejectedFlag } from './types';
export { FlagPayloadError } from './types';
export type { EngineDiagnosis } from './diagnose';
export { formatDiagnosis } from './diagnose';

export interface EngineLoadInfo {
  engine: 'native' | 'js';
  /** The .node file that was loaded, when native. */
  binary?: string;
  /** Why the native engine could not be used, when it was not. */
  fallbackReason?: string;
}

const PACKAGE_NAME = 'amplitude-experiment-native';

/** The package root, found from this file whether it runs from src/ or dist/cjs/. */
export function packageRoot(): string {
  let dir = __dirname;
  for (;;) {
    const manifest = path.join(dir, 'package.json');
    if (fs.existsSync(manifest)) {
      try {
        const pkg = JSON.parse(fs.readFileSync(manifest, 'utf8')) as { name?: string };
        if (pkg.name === PACKAGE_NAME) return dir;
      } catch {
        // keep looking upwards
      }
    }
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error(`cannot find the ${PACKAGE_NAME} package root from ${__dirname}`);
    dir = parent;
  }
}

let addon: NativeAddon | undefined;
let loadInfo: EngineLoadInfo | undefined;

/**
 * The addon interface version this TypeScript expects (native/napi/binding.cc
 * exports the one it implements). A binary left over from another version
 * (a stale build/ or prebuild) is refused instead of misbehaving.
 */
export const NATIVE_ABI_VERSION = 8;

function checkAbi(loaded: NativeAddon, binary: string): NativeAddon {
  if (loaded.abiVersion !== NATIVE_ABI_VERSION) {
    throw new Error(
      `native binary ${binary} implements addon interface ${String(loaded.abiVersion)}, this package needs ` +
        `${NATIVE_ABI_VERSION}: it is left over from another version (rebuild it, or delete it)`,
    );
  }
  return loaded;
}

/** Load the addon once per thread (node-gyp-build picks build/ or prebuilds/). */
export function loadNativeAddon(): NativeAddon {
  if (addon) return addon;
  const root = packageRoot();
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const nodeGypBuild = require('node-gyp-build') as ((dir: string) => unknown) & { resolve(dir: string): string };
  // Test hook: AMPLITUDE_EXPERIMENT_NATIVE_BINARY=<path to a .node> loads that
  // binary instead (scripts/test-sanitized.sh points it at the ASan build).
  const override = process.env.AMPLITUDE_EXPERIMENT_NATIVE_BINARY;
  if (override) {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    addon = checkAbi(require(path.resolve(override)) as NativeAddon, path.resolve(override));
    loadInfo = { engine: 'native', binary: path.resolve(override) };
    return addon;
  }
  const binary = nodeGypBuild.resolve(root);
  addon = checkAbi((root === PUBLISHED_ROOT ? loadPublished() : nodeGypBuild(root)) as NativeAddon, binary);
  loadInfo = { engine: 'native', binary };
  return addon;
}

/** The package root seen from dist/cjs/engine/, where the published package runs this file. */
const PUBLISHED_ROOT = path.join(__dirname, '..', '..', '..');

/**
 * The same load with the package root written as a static expression: file
 * tracers (@vercel/nft, used by Vercel and Next.js) recognise exactly this
 * shape, `require('node-gyp-build')(<static path>)`, and ship the .node file
 * node-gyp-build picks.
 */
function loadPublished(): unknown {
  // eslint-disable-next-line @typescript-eslint/no-require-imports, @typescript-eslint/no-unsafe-call -- the literal require(...)(dir) form is what @vercel/nft traces
  return require('node-gyp-build')(path.join(__dirname, '..', '..', '..'));
}

let engine: Engine | undefined;

// ---- fallback wiring --------------------------------------------------------
// Native first; if the addon does not load, the pure-JS engine with one
// warning. AMPLITUDE_EXPERIMENT_ENGINE=js|native forces one (see diagnose.ts).

/** The evaluation engine for this thread. */
export function loadEngine(): Engine {
  if (engine) return engine;
  engine = selectEngine(() => {
    const native = loadNativeEngine().createNativeEngine(loadNativeAddon());
    return { engine: native, binary: loadInfo?.binary ?? '' };
  });
  return engine;
}

/** How the engine was loaded (for diagnose()). */
export function engineLoadInfo(): EngineLoadInfo | undefined {
  if (!engine) return undefined;
  const d = getDiagnosis();
  if (d.engine === 'native') return { engine: 'native', binary: d.binary ?? undefined };
  return { engine: 'js', fallbackReason: d.fallbackReason ?? undefined };
}

/** Which engine runs, from which binary, on what platform, and why a fallback happened. */
export function diagnose(): EngineDiagnosis {
  loadEngine();
  return getDiagnosis();
}
