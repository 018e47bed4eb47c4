/** Options and helpers shared by the local and remote clients. */

/** Data center. Python SDK style enum; the plain strings 'us' / 'eu' work too (any case). */
export enum ServerZone {
  US = 'us',
  EU = 'eu',
}

export type ServerZoneInput = ServerZone | 'us' | 'eu' | 'US' | 'EU' | string;

export interface ServerUrls {
  remote: string;
  flags: string;
  stream: string;
  cohort: string;
}

export const US_SERVER_URLS: Readonly<ServerUrls> = Object.freeze({
  remote: 'https://api.lab.amplitude.com',
  flags: 'https://api.lab.amplitude.com',
  stream: 'https://stream.lab.amplitude.com',
  cohort: 'https://cohort-v2.lab.amplitude.com',
});

export const EU_SERVER_URLS: Readonly<ServerUrls> = Object.freeze({
  remote: 'https://api.lab.eu.amplitude.com',
  flags: 'https://flag.lab.eu.amplitude.com',
  stream: 'https://stream.lab.eu.amplitude.com',
  cohort: 'https://cohort-v2.lab.eu.amplitude.com',
});

/** 'eu' in any case is EU; anything else (or nothing) is US, as the official SDK does. */
export function normalizeServerZone(zone: unknown): ServerZone {
  return typeof zone === 'string' && zone.toLowerCase() === 'eu' ? ServerZone.EU : ServerZone.US;
}

export function serverUrlsFor(zone: ServerZone): Readonly<ServerUrls> {
  return zone === ServerZone.EU ? EU_SERVER_URLS : US_SERVER_URLS;
}

/** Thrown for an option that cannot be defaulted sensibly. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

/**
 * Validate an optional numeric option: a finite number >= min, else warn and
 * use the default. Returns the value to use.
 */
export function numberOption(
  name: string,
  value: unknown,
  fallback: number,
  min: number,
  warn: (message: string) => void,
): number {
  if (value === undefined || value === null) return fallback;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min) {
    warn(`config.${name} must be a number >= ${min}; got ${String(value)}, using ${fallback}`);
    return fallback;
  }
  return value;
}

/** Validate a URL option: absolute http(s) URL without a trailing slash. */
export function urlOption(name: string, value: unknown, fallback: string): string {
  if (value === undefined || value === null || value === '') return fallback;
  if (typeof value !== 'string') throw new ConfigError(`config.${name} must be a URL string`);
  let parsed: URL;
  try {
    parsed = new URL(value);
  } catch {
    throw new ConfigError(`config.${name} is not a valid URL: ${value}`);
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    throw new ConfigError(`config.${name} must be http or https: ${value}`);
  }
  return value.replace(/\/+$/, '');
}

/**
 * `proxyFromEnv`: explicit true/false, else Node's own switch for environment proxies (NODE_USE_ENV_PROXY=1,
 * honoured by Node 24's fetch and http), so one setting covers the process.
 */
export function proxyFromEnvOption(value: unknown, warn: (message: string) => void): boolean {
  if (value === undefined || value === null) return process.env.NODE_USE_ENV_PROXY === '1';
  if (typeof value !== 'boolean') {
    warn(`config.proxyFromEnv must be a boolean, got ${JSON.stringify(value)}; using false`);
    return false;
  }
  return value;
}
