/**
 * The engine boundary: the one place that loads the native addon. Everything
 * above it talks to the Engine interface, so a pure-JS engine can stand in.
 */
import * as fs from 'fs';
import * as path from 'path';
import { createNativeEngine, type NativeAddon } from './native-engine';
import type { Engine } from './types';

export type { Engine, FlagSnapshot, RejectedFlag } from './types';
export { FlagPayloadError } from './types';

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

/** Load the addon once per thread (node-gyp-build picks build/ or prebuilds/). */
export function loadNativeAddon(): NativeAddon {
  if (addon) return addon;
  const root = packageRoot();
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const nodeGypBuild = require('node-gyp-build') as ((dir: string) => unknown) & { resolve(dir: string): string };
  const binary = nodeGypBuild.resolve(root);
  addon = nodeGypBuild(root) as NativeAddon;
  loadInfo = { engine: 'native', binary };
  return addon;
}

let engine: Engine | undefined;

/** The evaluation engine for this thread. */
export function loadEngine(): Engine {
  if (engine) return engine;
  engine = createNativeEngine(loadNativeAddon());
  return engine;
}

/** How the engine was loaded (for diagnose()). */
export function engineLoadInfo(): EngineLoadInfo | undefined {
  return loadInfo;
}
