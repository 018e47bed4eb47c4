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
