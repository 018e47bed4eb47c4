/** Options and helpers shared by the local and remote clients. */

/** Data center. Python SDK style enum; the plain strings 'us' / 'eu' work too (any case). */
export enum ServerZone {
  US = 'us',
  EU = 'eu',
}

// eslint-disable-next-line @typescript-eslint/no-redundant-type-constituents -- the literals are kept for editor completion
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
  /** The option at fault, dotted for nested ones (`cohortSyncConfig.secretKey`), when there is one. */
  readonly option: string | undefined;

  constructor(message: string, option?: string) {
    super(message);
    this.option = option;
  }
}

/** `'1000' (a string)`, `42 (a number)`, `an object`: what a message says the user passed. */
export function describeValue(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  switch (typeof value) {
    case 'string':
      return `${JSON.stringify(value.length > 60 ? value.slice(0, 57) + '...' : value).replace(/^"|"$/g, "'")} (a string)`;
    case 'number':
      return `${String(value)} (a number)`;
    case 'boolean':
      return `${String(value)} (a boolean)`;
    case 'bigint':
      return `${String(value)}n (a bigint)`;
    case 'function':
      return 'a function';
    case 'symbol':
      return 'a symbol';
    case 'object':
      return 'an object';
    default:
      return 'undefined';
  }
}

/** setTimeout's longest delay: a longer one fires after 1 ms (Node's TimeoutOverflowWarning). */
export const MAX_TIMER_MILLIS = 2 ** 31 - 1;

/**
 * Every option in milliseconds (its name ends in Millis) ends up as a timer delay, where a value above
 * MAX_TIMER_MILLIS would fire at once (a poll storm, an instant time-out): clamped here, with a warning, for the
 * table's rows and numberOption's alike.
 */
export function timerMillisOption(name: string, value: number, warn: (message: string) => void): number {
  if (!name.endsWith('Millis') || value <= MAX_TIMER_MILLIS) return value;
  warn(
    `config.${name} must be at most ${MAX_TIMER_MILLIS} (about 24.8 days, the longest delay a Node.js timer takes; a longer one fires at once); got ${value}, using ${MAX_TIMER_MILLIS}`,
  );
  return MAX_TIMER_MILLIS;
}

/**
 * A numeric option outside the option table (sub-configs that validate
 * themselves): a finite number >= min, else `warn` and the default. Same
 * messages as the table's number rows.
 */
export function numberOption(
  name: string,
  value: unknown,
  fallback: number,
  min: number,
  warn: (message: string) => void,
): number {
  if (value === undefined || value === null) return fallback;
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    warn(`config.${name} must be a number >= ${min}; got ${describeValue(value)}, using ${fallback}`);
    return fallback;
  }
  if (value < min) {
    warn(`config.${name} must be >= ${min}; got ${value}, using ${fallback}`);
    return fallback;
  }
  return timerMillisOption(name, value, warn);
}
