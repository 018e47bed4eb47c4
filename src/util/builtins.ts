/**
 * Node built-ins that are not in Node's startup snapshot, loaded on first
 * use: requiring node:zlib, node:v8 or node:crypto costs several
 * milliseconds each (they bring Node's stream stack with them), which
 * `require()` of the package would otherwise pay for features most
 * processes never use (Redis fleet, gzip'd cohorts, hostile regexes).
 * node:fs, node:path, node:events and node:util are already loaded at
 * startup and are imported normally.
 */
import { lazy } from './lazy';

/* eslint-disable @typescript-eslint/no-require-imports -- literal requires, loaded lazily, visible to file tracers */
export const crypto = lazy(() => require('node:crypto') as typeof import('node:crypto'));
export const os = lazy(() => require('node:os') as typeof import('node:os'));
export const perfHooks = lazy(() => require('node:perf_hooks') as typeof import('node:perf_hooks'));
export const v8 = lazy(() => require('node:v8') as typeof import('node:v8'));
export const vm = lazy(() => require('node:vm') as typeof import('node:vm'));
export const zlib = lazy(() => require('node:zlib') as typeof import('node:zlib'));
/* eslint-enable @typescript-eslint/no-require-imports */
