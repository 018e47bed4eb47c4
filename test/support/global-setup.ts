/**
 * Runs once before the suite: says which engine loaded and, when the native
 * addon did not, why and what to install. Tests of the addon itself are then
 * skipped with that note (see engine.ts) instead of failing one by one; under
 * CI (or AMPLITUDE_EXPERIMENT_ENGINE=native) a missing addon fails the run here.
 * It also rebuilds dist/ when src/ is newer (see dist.ts) and looks for redis-server, once for all files.
 */
import { execFileSync } from 'node:child_process';
import type { TestProject } from 'vitest/node';
import { diagnose } from '../../src/engine';
import { ensureDistBuilt } from './dist';

declare module 'vitest' {
  export interface ProvidedContext {
    /** The native addon loaded in this checkout (build/Release or prebuilds/). */
    nativeAddonLoaded: boolean;
    /** redis-server is installed (the Redis tests skip with a reason otherwise). */
    redisAvailable: boolean;
  }
}

function redisInstalled(): boolean {
  try {
    execFileSync('redis-server', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

export default function setup(project: TestProject): void {
  if (ensureDistBuilt()) console.log('dist/ was older than src/: rebuilt it (npm run build:ts)');
  const d = diagnose();
  const loaded = d.engine === 'native';
  project.provide('nativeAddonLoaded', loaded);
  project.provide('redisAvailable', redisInstalled());
  if (loaded) {
    console.log(`engine: native (${d.binary}), Node ${d.nodeVersion}`);
    return;
  }
  const message = [
    `engine: js — the native addon is not loaded: ${d.fallbackReason ?? d.loadError ?? 'unknown reason'}`,
    '  Tests of the native engine are skipped. To build the addon, install cmake and a C++17 compiler',
    '  (Debian/Ubuntu: apt-get install cmake g++ make; macOS: xcode-select --install && brew install cmake),',
    '  then run `npm run build:native` (or `npm ci` again).',
  ].join('\n');
  if (process.env.CI || process.env.AMPLITUDE_EXPERIMENT_ENGINE === 'native') {
    throw new Error(`${message}\n  CI requires the native addon.`);
  }
  console.warn(`\n${message}\n`);
}
