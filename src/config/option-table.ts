/**
 * The machinery behind the config table (src/config/options.ts): what a row
 * can say about an option, and one resolver that validates a user's config
 * against the rows. Every option is checked the same way, so local and remote
 * cannot drift apart again.
 *
 * What throws and what warns (docs/configuration.md):
 * - ConfigError, at construction: a value the client cannot run with and
 *   cannot guess (a malformed URL, a missing required key, an object that is
 *   not what it must be, options that contradict each other).
 * - A warning, visible at every log level but Disable, and the default is
 *   used: a wrong type, a number out of bounds, an unknown enum value, an
 *   unknown option (with a did-you-mean). A millisecond option above the
 *   longest timer delay is clamped to it (timerMillisOption).
 * - A deprecated option is logged at Warn (level-filtered): it still works.
 */
import { ConfigError, describeValue, type ServerUrls, timerMillisOption, US_SERVER_URLS } from './common';

export { describeValue };

/** Which clients take an option. */
export type ClientKind = 'local' | 'remote' | 'both';

/** What resolving one option can do besides returning a value. */
export interface OptionContext {
  /** Dotted name for messages, e.g. `cohortSyncConfig.maxCohortSize`. */
  readonly path: string;
  /** The client being configured. */
  readonly client: 'local' | 'remote';
  /** The server URLs of the resolved serverZone (for URL defaults). */
  readonly urls: Readonly<ServerUrls>;
  /** Report a mistake the client can run around (logged as a warning). */
  warn(message: string): void;
  /** Refuse the config (throws ConfigError). */
  fail(message: string): never;
}

interface RowBase {
  clients: ClientKind;
  /** Set when the option is deprecated (top-level options only): what to use instead. */
  deprecated?: string;
}

/** A finite number; `min`/`max` bounds; out of bounds uses the default, or the bound with `clamp`. */
export interface NumberRow extends RowBase {
  type: 'number';
  default: number;
  min?: number;
  max?: number;
  /** Below `min`: use `min` instead of the default (the official SDK's Math.max floors). */
  clamp?: boolean;
  /** Fractions are floored, with a warning. */
  integer?: boolean;
}

export interface BooleanRow extends RowBase {
  type: 'boolean';
  default: boolean;
}

export interface StringRow extends RowBase {
  type: 'string';
  default?: string;
  /** Missing or empty throws ConfigError. */
  required?: boolean;
}

/** One of a few strings (compared case-insensitively); the resolved value is lower case. */
export interface EnumRow extends RowBase {
  type: 'enum';
  values: readonly string[];
  default: string;
}

/** An absolute http(s) URL; a trailing slash is dropped. A bad URL throws: a guess would send requests elsewhere. */
export interface UrlRow extends RowBase {
  type: 'url';
  /** The default comes from the resolved zone's URLs (per client when they differ). */
  zoneDefault: keyof ServerUrls | Readonly<Record<'local' | 'remote', keyof ServerUrls>>;
}

/**
 * An object with fields of its own (validated by the same rules, under
 * `path.field`). `open`: other fields are passed through unchecked (options
 * for another library); otherwise unknown fields warn.
 */
export interface ObjectRow extends RowBase {
  type: 'object';
  fields: Readonly<Record<string, OptionRow>>;
  open?: boolean;
}

/**
 * Anything else (a dispatcher, hooks, a data source): `check` returns the
 * value to use, calling ctx.warn or ctx.fail for a bad one. `default` is what
 * an absent option resolves to.
 */
export interface CustomRow extends RowBase {
  type: 'custom';
  /** Shown in generated docs. */
  describe: string;
  default?: unknown;
  check?(value: unknown, ctx: OptionContext): unknown;
}

export type OptionRow = NumberRow | BooleanRow | StringRow | EnumRow | UrlRow | ObjectRow | CustomRow;

export type OptionTable = Readonly<Record<string, OptionRow>>;

function takes(row: OptionRow, client: 'local' | 'remote'): boolean {
  return row.clients === 'both' || row.clients === client;
}

/** Edit distance, for did-you-mean (option names are short: the quadratic table is fine). */
function distance(a: string, b: string): number {
  const prev = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let diag = prev[0];
    prev[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const above = prev[j];
      prev[j] = Math.min(prev[j] + 1, prev[j - 1] + 1, diag + (a[i - 1] === b[j - 1] ? 0 : 1));
      diag = above;
    }
  }
  return prev[b.length];
}

const normalizeName = (name: string): string => name.replace(/[_-]/g, '').toLowerCase();

/** The known name a typo most likely meant: same letters ignoring case and `_`, or at most ~1 edit in 4. */
export function didYouMean(name: string, known: Iterable<string>): string | undefined {
  const plain = normalizeName(name);
  let best: string | undefined;
  let bestScore = Infinity;
  for (const candidate of known) {
    const score = normalizeName(candidate) === plain ? 0 : distance(plain, normalizeName(candidate));
    if (score < bestScore) {
      best = candidate;
      bestScore = score;
    }
  }
  const allowed = Math.max(1, Math.floor(plain.length / 4));
  return best !== undefined && bestScore <= allowed ? best : undefined;
}

const CLIENT_NAME = { local: 'local evaluation', remote: 'remote evaluation' } as const;

function resolveNumber(row: NumberRow, value: unknown, ctx: OptionContext): number {
  const bounds =
    row.min !== undefined && row.max !== undefined
      ? ` between ${row.min} and ${row.max}`
      : row.min !== undefined
        ? ` >= ${row.min}`
        : row.max !== undefined
          ? ` <= ${row.max}`
          : '';
  let n: number;
  if (typeof value === 'number' && Number.isFinite(value)) {
    n = value;
  } else if (typeof value === 'string' && /^\s*[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?\s*$/i.test(value)) {
    // A number in a string (an environment variable, typically): the official SDK's timers coerce it, so use it.
    n = Number(value);
    ctx.warn(`config.${ctx.path} must be a number; got ${describeValue(value)}, using ${n}`);
  } else {
    ctx.warn(`config.${ctx.path} must be a number${bounds}; got ${describeValue(value)}, using ${row.default}`);
    return row.default;
  }
  if (row.min !== undefined && n < row.min) {
    const use = row.clamp ? row.min : row.default;
    ctx.warn(`config.${ctx.path} must be${bounds}; got ${n}, using ${use}`);
    return use;
  }
  if (row.max !== undefined && n > row.max) {
    ctx.warn(`config.${ctx.path} must be${bounds}; got ${n}, using ${row.max}`);
    return row.max;
  }
  if (row.integer && !Number.isInteger(n)) {
    ctx.warn(`config.${ctx.path} must be an integer; got ${n}, using ${Math.floor(n)}`);
    n = Math.floor(n);
  }
  return timerMillisOption(ctx.path, n, (message) => ctx.warn(message));
}

function resolveUrl(value: unknown, fallback: string, ctx: OptionContext): string {
  if (value === '') return fallback;
  if (typeof value !== 'string') return ctx.fail(`config.${ctx.path} must be a URL string; got ${describeValue(value)}`);
  let parsed: URL;
  try {
    parsed = new URL(value);
  } catch {
    return ctx.fail(`config.${ctx.path} is not a valid URL: ${value}`);
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    return ctx.fail(`config.${ctx.path} must be an http or https URL: ${value}`);
  }
  return value.replace(/\/+$/, '');
}

function urlKind(row: UrlRow, client: 'local' | 'remote'): keyof ServerUrls {
  return typeof row.zoneDefault === 'string' ? row.zoneDefault : row.zoneDefault[client];
}

/** ctx.fail for one option: throws ConfigError naming it. */
function failAt(path: string): (message: string) => never {
  return (message: string): never => {
    throw new ConfigError(message, path);
  };
}

/** Validate a URL option outside a config object (the CLI's --server-url): absent gives `fallback`. */
export function urlOption(name: string, value: unknown, fallback: string): string {
  if (value === undefined || value === null) return fallback;
  return resolveUrl(value, fallback, {
    path: name,
    client: 'local',
    urls: US_SERVER_URLS,
    warn: () => undefined,
    fail: failAt(name),
  });
}

/** Resolve one option: its value, or its default when absent (undefined or null). */
function resolveRow(row: OptionRow, value: unknown, ctx: OptionContext): unknown {
  const absent = value === undefined || value === null;
  switch (row.type) {
    case 'number':
      return absent ? row.default : resolveNumber(row, value, ctx);
    case 'boolean':
      if (absent) return row.default;
      if (typeof value === 'boolean') return value;
      ctx.warn(`config.${ctx.path} must be true or false; got ${describeValue(value)}, using ${row.default}`);
      return row.default;
    case 'string':
      if (absent || value === '') {
        if (row.required) ctx.fail(`config.${ctx.path} is required (a non-empty string)`);
        return row.default;
      }
      if (typeof value === 'string') return value;
      if (row.required) ctx.fail(`config.${ctx.path} must be a non-empty string; got ${describeValue(value)}`);
      ctx.warn(
        `config.${ctx.path} must be a string; got ${describeValue(value)}, ${row.default === undefined ? 'ignoring it' : `using '${row.default}'`}`,
      );
      return row.default;
    case 'enum': {
      if (absent) return row.default;
      const allowed = row.values.map((v) => `'${v}'`).join(' or ');
      if (typeof value === 'string' && row.values.includes(value.toLowerCase())) return value.toLowerCase();
      ctx.warn(`config.${ctx.path} must be ${allowed} (any case); got ${describeValue(value)}, using '${row.default}'`);
      return row.default;
    }
    case 'url': {
      const fallback = ctx.urls[urlKind(row, ctx.client)];
      return absent ? fallback : resolveUrl(value, fallback, ctx);
    }
    case 'object':
      if (absent) return undefined;
      if (typeof value !== 'object' || Array.isArray(value)) {
        return ctx.fail(`config.${ctx.path} must be an object; got ${describeValue(value)}`);
      }
      return resolveFields(row, value as Record<string, unknown>, ctx);
    case 'custom':
      if (absent) return row.default;
      return row.check ? row.check(value, ctx) : value;
  }
}

function resolveFields(row: ObjectRow, value: Record<string, unknown>, parent: OptionContext): Record<string, unknown> {
  const out: Record<string, unknown> = row.open ? { ...value } : {};
  const names = Object.keys(row.fields);
  if (!row.open) {
    for (const key of Object.keys(value)) {
      if (key in row.fields) continue;
      const hint = didYouMean(key, names);
      parent.warn(
        `config.${parent.path}.${key} is not an option of ${parent.path} and is ignored${hint ? ` (did you mean ${hint}?)` : ''}`,
      );
    }
  }
  for (const name of names) {
    const field = row.fields[name];
    const path = `${parent.path}.${name}`;
    const ctx: OptionContext = { ...parent, path, fail: failAt(path) };
    const resolved = resolveRow(field, value[name], ctx);
    if (resolved === undefined) delete out[name];
    else out[name] = resolved;
  }
  return out;
}

export interface ResolveOptions {
  client: 'local' | 'remote';
  /** The URLs URL defaults come from, given the options resolved so far (URL rows are resolved last). */
  urls(resolved: Readonly<Record<string, unknown>>): Readonly<ServerUrls>;
  warn(message: string): void;
  /** Where deprecations go (the logger's warn, filtered by level: using a deprecated option is no mistake). */
  notice(message: string): void;
}

/**
 * Validate `config` against the rows `client` takes: unknown options warn
 * (with a did-you-mean, or "that is a remote option"), each known option is
 * resolved by its row. Returns every option of the client, defaults filled.
 */
export function resolveTable(
  table: OptionTable,
  config: Record<string, unknown>,
  options: ResolveOptions,
): Record<string, unknown> {
  const { client } = options;
  const mine = Object.keys(table).filter((name) => takes(table[name], client));
  for (const key of Object.keys(config)) {
    const row = Object.prototype.hasOwnProperty.call(table, key) ? table[key] : undefined;
    if (row && takes(row, client)) continue;
    if (row) {
      const other = client === 'local' ? 'remote' : 'local';
      options.warn(`config.${key} is a ${CLIENT_NAME[other]} option; the ${CLIENT_NAME[client]} client ignores it`);
      continue;
    }
    const hint = didYouMean(key, mine);
    options.warn(`config.${key} is not a ${CLIENT_NAME[client]} option and is ignored${hint ? ` (did you mean ${hint}?)` : ''}`);
  }
  const out: Record<string, unknown> = {};
  let urls: Readonly<ServerUrls> | undefined;
  const ordered = [
    ...mine.filter((n) => table[n].type !== 'url' && table[n].type !== 'object'),
    ...mine.filter((n) => table[n].type === 'url' || table[n].type === 'object'),
  ];
  for (const name of ordered) {
    const row = table[name];
    if ((row.type === 'url' || row.type === 'object') && urls === undefined) urls = options.urls(out);
    // eslint-disable-next-line @typescript-eslint/unbound-method -- only its type or presence is read here, or it is called with its object
    const ctx: OptionContext = { path: name, client, urls: urls ?? US_SERVER_URLS, warn: options.warn, fail: failAt(name) };
    if (row.deprecated && config[name] !== undefined && config[name] !== null) {
      options.notice(`config.${name} is deprecated: ${row.deprecated}`);
    }
    out[name] = resolveRow(row, config[name], ctx);
  }
  return out;
}

/** The declared default of one row (URL rows: the US URL; object rows: their fields' defaults). */
export function defaultOf(row: OptionRow, client: 'local' | 'remote'): unknown {
  switch (row.type) {
    case 'url':
      return US_SERVER_URLS[urlKind(row, client)];
    case 'object': {
      const out: Record<string, unknown> = {};
      for (const [name, field] of Object.entries(row.fields)) {
        const value = defaultOf(field, client);
        if (value !== undefined) out[name] = value;
      }
      return out;
    }
    default:
      return row.default;
  }
}

/** The declared defaults of the named options, in that order (the exported *Defaults objects). */
export function defaultsOf<K extends string>(
  table: OptionTable,
  client: 'local' | 'remote',
  names: readonly K[],
): Record<K, unknown> {
  const out = {} as Record<K, unknown>;
  for (const name of names) {
    const row = table[name];
    if (row === undefined) throw new Error(`no config row ${name}`);
    out[name] = defaultOf(row, client);
  }
  return out;
}
