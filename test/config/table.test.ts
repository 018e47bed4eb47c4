/**
 * resolveLocalConfig and resolveRemoteConfig, driven by the option table:
 * every row is checked against both resolvers, so an option added to the
 * table is tested without a new test.
 */
import { Agent as HttpsAgent } from 'node:https';
import { Agent } from 'undici';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ConfigError, ServerZone } from '../../src/config/common';
import { resolveLocalConfig } from '../../src/config/local';
import { defaultOf, describeValue, didYouMean, type OptionRow } from '../../src/config/option-table';
import { LOGGING_OPTIONS, OPTIONS } from '../../src/config/options';
import { resolveRemoteConfig } from '../../src/config/remote';
import { resolveRedisConfig } from '../../src/redis/config';
import { LogLevel, type LoggerProvider } from '../../src/util/logger';

type Client = 'local' | 'remote';
const CLIENTS: Client[] = ['local', 'remote'];
const ROWS = Object.entries(OPTIONS) as Array<[string, OptionRow]>;
const takes = (row: OptionRow, client: Client): boolean => row.clients === 'both' || row.clients === client;

function capture(): { provider: LoggerProvider; warnings: string[]; errors: string[] } {
  const warnings: string[] = [];
  const errors: string[] = [];
  return {
    warnings,
    errors,
    provider: {
      debug: () => undefined,
      info: () => undefined,
      warn: (m?: unknown) => void warnings.push(String(m)),
      error: (m?: unknown) => void errors.push(String(m)),
    },
  };
}

/** Resolve with the default log level (Error): what a new user sees. */
function resolve(client: Client, config: Record<string, unknown>) {
  const log = capture();
  const input = { loggerProvider: log.provider, ...config };
  const resolved = (client === 'local' ? resolveLocalConfig(input) : resolveRemoteConfig(input)) as unknown as Record<
    string,
    unknown
  >;
  return { resolved, ...log };
}

function rowsOf<T extends OptionRow['type']>(type: T): Array<[Client, string, Extract<OptionRow, { type: T }>]> {
  const out: Array<[Client, string, Extract<OptionRow, { type: T }>]> = [];
  for (const client of CLIENTS) {
    for (const [name, row] of ROWS)
      if (row.type === type && takes(row, client)) out.push([client, name, row as Extract<OptionRow, { type: T }>]);
  }
  return out;
}

describe('defaults come from the table', () => {
  it.each(CLIENTS)('%s: an empty config resolves every number and boolean row to its default, silently', (client) => {
    const { resolved, warnings } = resolve(client, {});
    for (const [name, row] of ROWS) {
      if (!takes(row, client) || (row.type !== 'number' && row.type !== 'boolean')) continue;
      if (LOGGING_OPTIONS.has(name as never)) continue; // consumed by the logger, not in the resolved config
      expect(resolved[name], name).toBe(row.default);
    }
    expect(warnings).toEqual([]);
  });

  it('URL rows default to the zone, per client', () => {
    expect(resolve('local', {}).resolved.serverUrl).toBe('https://api.lab.amplitude.com');
    expect(resolve('local', { serverZone: 'EU' }).resolved.serverUrl).toBe('https://flag.lab.eu.amplitude.com');
    expect(resolve('remote', { serverZone: 'EU' }).resolved.serverUrl).toBe('https://api.lab.eu.amplitude.com');
    expect(resolve('local', { serverZone: 'eu' }).resolved.streamServerUrl).toBe('https://stream.lab.eu.amplitude.com');
    expect(defaultOf(OPTIONS.serverUrl, 'remote')).toBe('https://api.lab.amplitude.com');
  });
});

describe('wrong types warn at the default log level and use the default', () => {
  it.each(rowsOf('number'))(
    '%s %s: the string "1000" is reported as a string, and used as the number it holds',
    (client, name) => {
      const { resolved, warnings } = resolve(client, { [name]: '1000' });
      expect(resolved[name]).toBe(1000);
      expect(warnings).toHaveLength(1);
      expect(warnings[0]).toContain(`config.${name} must be a number; got '1000' (a string), using 1000`);
    },
  );

  it.each(rowsOf('number'))('%s %s: a string that is no number, or NaN, uses the default', (client, name, row) => {
    for (const value of ['fast', '', '1,000', NaN, Infinity, {}]) {
      const { resolved, warnings } = resolve(client, { [name]: value });
      expect(resolved[name]).toBe(row.default);
      expect(warnings.join('\n')).toContain(`config.${name} must be a number`);
      expect(warnings.join('\n')).toContain(`, using ${row.default}`);
    }
  });

  it.each(rowsOf('number').filter(([, , row]) => row.min !== undefined))(
    '%s %s: below its minimum warns',
    (client, name, row) => {
      const value = (row.min as number) - 1;
      const { resolved, warnings } = resolve(client, { [name]: value });
      expect(resolved[name]).toBe(row.clamp ? row.min : row.default);
      expect(warnings.join('\n')).toContain(`config.${name} must be >= ${row.min}; got ${value}`);
    },
  );

  it.each(rowsOf('boolean'))('%s %s: "yes" is not a boolean', (client, name, row) => {
    const { resolved, warnings } = resolve(client, { [name]: 'yes' });
    if (!LOGGING_OPTIONS.has(name as never)) expect(resolved[name]).toBe(row.default);
    expect(warnings.join('\n')).toContain(`config.${name} must be true or false; got 'yes' (a string)`);
  });

  it.each(CLIENTS)('%s: instanceName 42 warns and is ignored', (client) => {
    const { resolved, warnings } = resolve(client, { instanceName: 42 });
    expect(resolved.instanceName).toBeUndefined();
    expect(warnings.join('\n')).toContain('config.instanceName must be a string; got 42 (a number)');
  });

  it.each(CLIENTS)("%s: serverZone 'mars' warns and uses US", (client) => {
    const { resolved, warnings } = resolve(client, { serverZone: 'mars' });
    expect(resolved.serverZone).toBe(ServerZone.US);
    expect(warnings.join('\n')).toContain("config.serverZone must be 'us' or 'eu' (any case); got 'mars' (a string), using 'us'");
  });

  it.each(CLIENTS)('%s: the zone enum and any case are accepted silently', (client) => {
    for (const zone of [ServerZone.EU, 'EU', 'Eu', 'us']) {
      const { warnings } = resolve(client, { serverZone: zone });
      expect(warnings).toEqual([]);
    }
  });

  it('a polling interval below 1000 ms polls every 1000 ms (the floor), not at the 30 s default', () => {
    const { resolved, warnings } = resolve('local', { flagConfigPollingIntervalMillis: 100 });
    expect(resolved.flagConfigPollingIntervalMillis).toBe(1000);
    expect(warnings.join()).toContain('config.flagConfigPollingIntervalMillis must be >= 1000; got 100, using 1000');
  });

  it('a nested number is checked by its row too; the cohort interval is clamped to its 60000 minimum', () => {
    const base = { apiKey: 'a', secretKey: 's' };
    const low = resolve('local', { cohortSyncConfig: { ...base, cohortPollingIntervalMillis: 1000 } });
    expect((low.resolved.cohortSyncConfig as Record<string, unknown>).cohortPollingIntervalMillis).toBe(60_000);
    expect(low.warnings.join('\n')).toContain(
      'config.cohortSyncConfig.cohortPollingIntervalMillis must be >= 60000; got 1000, using 60000',
    );
    const typo = resolve('local', { cohortSyncConfig: { ...base, maxCohortSize: 'five' } });
    expect((typo.resolved.cohortSyncConfig as Record<string, unknown>).maxCohortSize).toBe(2_147_483_647);
    expect(typo.warnings.join('\n')).toContain("got 'five' (a string)");
  });
});

describe('millisecond options are at most the longest timer delay (2147483647)', () => {
  const MAX = 2_147_483_647;
  const clamped = (path: string, got: number): string =>
    `config.${path} must be at most ${MAX} (about 24.8 days, the longest delay a Node.js timer takes; a longer one fires at once); got ${got}, using ${MAX}`;

  /** Every number row ending in Millis, nested ones included, with what its parent object needs to resolve. */
  function millisRows(): Array<[Client, string, Record<string, unknown>]> {
    const required: Record<string, Record<string, unknown>> = {
      cohortSyncConfig: { apiKey: 'a', secretKey: 's' },
      evaluationProxyConfig: { proxyUrl: 'http://127.0.0.1:1' },
      persistence: { path: 'flags.json' },
    };
    const out: Array<[Client, string, Record<string, unknown>]> = [];
    for (const client of CLIENTS) {
      for (const [name, row] of ROWS) {
        if (!takes(row, client)) continue;
        if (row.type === 'number' && name.endsWith('Millis')) out.push([client, name, {}]);
        if (row.type !== 'object') continue;
        for (const [field, sub] of Object.entries(row.fields)) {
          if (sub.type === 'number' && field.endsWith('Millis')) out.push([client, `${name}.${field}`, required[name] ?? {}]);
        }
      }
    }
    return out;
  }

  it('the table has such rows, top-level and nested', () => {
    const names = millisRows().map(([, name]) => name);
    expect(names).toContain('startTimeoutMillis');
    expect(names).toContain('fetchTimeoutMillis');
    expect(names).toContain('cohortSyncConfig.cohortPollingIntervalMillis');
  });

  it.each(millisRows())(
    '%s %s: 3e9 is clamped to 2147483647 with a warning; 2147483647 is taken silently',
    (client, path, base) => {
      const [parent, field] = path.includes('.') ? path.split('.') : [undefined, path];
      const config = (value: number): Record<string, unknown> =>
        // persistence.startFallbackMillis is capped at startTimeoutMillis as well: that one at the maximum too.
        parent === undefined ? { [field]: value } : { startTimeoutMillis: MAX, [parent]: { ...base, [field]: value } };
      const valueOf = (resolved: Record<string, unknown>): unknown =>
        parent === undefined ? resolved[field] : (resolved[parent] as Record<string, unknown>)[field];
      const over = resolve(client, config(3e9));
      expect(valueOf(over.resolved)).toBe(MAX);
      expect(over.warnings.join('\n')).toContain(clamped(path, 3e9));
      const at = resolve(client, config(MAX));
      expect(valueOf(at.resolved)).toBe(MAX);
      expect(at.warnings.join('\n')).not.toContain('must be at most');
    },
  );

  it('redisConfig timings (validated outside the table) follow the same rule', () => {
    const warnings: string[] = [];
    const resolved = resolveRedisConfig(
      { mode: 'fleet', url: 'redis://127.0.0.1:1', leaseMillis: 30 * 24 * 3600 * 1000, commandTimeoutMillis: 3e9 },
      (m) => warnings.push(m),
    );
    expect(resolved.leaseMillis).toBe(MAX);
    expect(resolved.commandTimeoutMillis).toBe(MAX);
    expect(warnings).toContain(clamped('redisConfig.leaseMillis', 2_592_000_000));
    expect(warnings).toContain(clamped('redisConfig.commandTimeoutMillis', 3e9));
  });
});

describe('unknown options', () => {
  it.each(CLIENTS)('%s: a near miss gets a did-you-mean', (client) => {
    const near = client === 'local' ? 'flagConfigPollingIntervalMilis' : 'fetchRetires';
    const meant = client === 'local' ? 'flagConfigPollingIntervalMillis' : 'fetchRetries';
    const { warnings } = resolve(client, { [near]: 1, colour: 'blue' });
    expect(warnings.join('\n')).toContain(
      `config.${near} is not a ${client} evaluation option and is ignored (did you mean ${meant}?)`,
    );
    expect(warnings.join('\n')).toMatch(/config\.colour is not a .* option and is ignored$/m);
  });

  it('Python-style names point at the camelCase option', () => {
    expect(resolve('remote', { fetch_retries: 2 }).warnings.join()).toContain('did you mean fetchRetries?');
    expect(resolve('local', { server_zone: 'eu' }).warnings.join()).toContain('did you mean serverZone?');
  });

  it('an option of the other client says so', () => {
    expect(resolve('local', { fetchRetries: 2 }).warnings.join()).toContain(
      'config.fetchRetries is a remote evaluation option; the local evaluation client ignores it',
    );
    expect(resolve('remote', { streamUpdates: true }).warnings.join()).toContain(
      'config.streamUpdates is a local evaluation option; the remote evaluation client ignores it',
    );
  });

  it('unknown fields of a closed nested option warn; an open one (analytics options) passes them through', () => {
    const cohort = resolve('local', { cohortSyncConfig: { apiKey: 'a', secretKey: 's', maxCohortSise: 1 } });
    expect(cohort.warnings.join()).toContain(
      'config.cohortSyncConfig.maxCohortSise is not an option of cohortSyncConfig and is ignored (did you mean maxCohortSize?)',
    );
    const exposure = resolve('local', { exposureConfig: { apiKey: 'k', flushQueueSize: 5 } });
    expect(exposure.warnings).toEqual([]);
    expect(exposure.resolved.exposureConfig).toEqual({ apiKey: 'k', flushQueueSize: 5, cacheCapacity: 65_536 });
  });

  it('didYouMean stays quiet for unrelated names', () => {
    expect(didYouMean('colour', ['serverZone', 'serverUrl'])).toBeUndefined();
    expect(didYouMean('serverurl', ['serverZone', 'serverUrl'])).toBe('serverUrl');
  });
});

describe('the same transport options for both clients', () => {
  it.each(CLIENTS)('%s: httpAgent is kept as given, silently; a dispatcher wins over it with a warning', async (client) => {
    const agent = new HttpsAgent({ maxSockets: 3, ca: 'PEM' });
    const alone = resolve(client, { httpAgent: agent });
    expect(alone.resolved.httpAgent).toBe(agent);
    expect(alone.warnings).toEqual([]);
    const dispatcher = new Agent();
    const both = resolve(client, { httpAgent: agent, dispatcher, proxyFromEnv: true });
    expect(both.resolved.httpAgent).toBeUndefined();
    expect(both.resolved.dispatcher).toBe(dispatcher);
    expect(both.warnings.join('\n')).toContain('config.httpAgent is ignored because config.dispatcher is set');
    expect(both.warnings.join('\n')).toContain('config.proxyFromEnv is ignored because config.dispatcher is set');
    const envAndAgent = resolve(client, { httpAgent: agent, proxyFromEnv: true });
    expect(envAndAgent.resolved.proxyFromEnv).toBe(false);
    expect(envAndAgent.warnings.join()).toContain('config.proxyFromEnv is ignored because config.httpAgent is set');
    agent.destroy();
    await dispatcher.close();
  });

  it.each(CLIENTS)('%s: a dispatcher that is not one throws ConfigError; an undici Agent is kept', async (client) => {
    expect(() => resolve(client, { dispatcher: {} })).toThrow(ConfigError);
    expect(() => resolve(client, { dispatcher: {} })).toThrow(/got an object/);
    const agent = new Agent();
    expect(resolve(client, { dispatcher: agent }).resolved.dispatcher).toBe(agent);
    await agent.close();
  });
});

describe('what throws ConfigError', () => {
  it.each(CLIENTS)('%s: a malformed serverUrl', (client) => {
    expect(() => resolve(client, { serverUrl: 'not a url' })).toThrow(ConfigError);
    expect(() => resolve(client, { serverUrl: 42 })).toThrow('config.serverUrl must be a URL string; got 42 (a number)');
  });

  it.each([
    [{ cohortSyncConfig: { apiKey: 'a' } }, 'config.cohortSyncConfig.secretKey is required'],
    [{ exposureConfig: {} }, 'config.exposureConfig.apiKey is required'],
    [{ exposureConfig: 'key' }, "config.exposureConfig must be an object; got 'key' (a string)"],
    [{ hooks: {} }, 'config.hooks must be an array of hooks'],
    [{ flagsFile: '' }, 'config.flagsFile must be a file path'],
    [{ dataSource: {} }, 'config.dataSource must be an object with a subscribe(listener) method'],
    [{ persistence: {} }, 'config.persistence.path is required'],
    [{ flagsFile: 'f.json', dataSource: { subscribe: () => () => undefined } }, 'cannot both be set'],
  ])('local: %j', (config, message) => {
    expect(() => resolve('local', config)).toThrow(ConfigError);
    expect(() => resolve('local', config)).toThrow(message);
  });

  it('the error names the option at fault', () => {
    const err = (() => {
      try {
        resolve('local', { cohortSyncConfig: { apiKey: 'a' } });
      } catch (e) {
        return e as ConfigError;
      }
      return undefined;
    })();
    expect(err).toBeInstanceOf(ConfigError);
    expect(err?.option).toBe('cohortSyncConfig.secretKey');
  });

  it('a config that is not an object', () => {
    expect(() => resolveLocalConfig('fast' as never)).toThrow(ConfigError);
    expect(() => resolveRemoteConfig([] as never)).toThrow(ConfigError);
  });
});

describe('the default log level', () => {
  afterEach(() => vi.restoreAllMocks());

  it.each(CLIENTS)('%s: config mistakes reach the console with no logging options set', (client) => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => undefined);
    const config = { startTimeoutMillis: '1000', fetchTimeoutMillis: '1000' };
    if (client === 'local') resolveLocalConfig(config as never);
    else resolveRemoteConfig(config as never);
    const name = client === 'local' ? 'startTimeoutMillis' : 'fetchTimeoutMillis';
    expect(warn.mock.calls.map((c) => String(c[0])).join('\n')).toContain(`[Experiment] config.${name} must be a number`);
  });

  it('constructing either client reports every mistake before the constructor returns', async () => {
    const { LocalEvaluationClient } = await import('../../src/local/client');
    const { RemoteEvaluationClient } = await import('../../src/remote/client');
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => undefined);
    const local = new LocalEvaluationClient('key', {
      serverZone: 'mars',
      flagConfigPollingIntervalMilis: 5,
      instanceName: 42,
    } as never);
    const remote = new RemoteEvaluationClient('key', { serverZone: 'mars', fetchRetries: '2' } as never);
    const lines = warn.mock.calls.map((c) => String(c[0])).join('\n');
    await Promise.all([local.close(), remote.close()]);
    expect(lines).toContain("config.serverZone must be 'us' or 'eu' (any case); got 'mars' (a string)");
    expect(lines).toContain('(did you mean flagConfigPollingIntervalMillis?)');
    expect(lines).toContain('config.instanceName must be a string; got 42 (a number)');
    expect(lines).toContain("config.fetchRetries must be a number; got '2' (a string), using 2");
  });

  it('LogLevel.Disable silences them', () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => undefined);
    resolveRemoteConfig({ logLevel: LogLevel.Disable, fetchTimeoutMillis: '1000' } as never);
    expect(warn).not.toHaveBeenCalled();
  });

  it('a deprecated option is a notice at Warn, not a mistake', () => {
    const quiet = resolve('local', { assignmentConfig: { apiKey: 'k' } });
    expect(quiet.warnings).toEqual([]);
    const log = capture();
    resolveLocalConfig({ loggerProvider: log.provider, logLevel: LogLevel.Warn, assignmentConfig: { apiKey: 'k' } });
    expect(log.warnings.join()).toContain('config.assignmentConfig is deprecated: use exposureConfig');
  });
});

describe('describeValue', () => {
  it.each<[unknown, string]>([
    ['1000', "'1000' (a string)"],
    [1000, '1000 (a number)'],
    [null, 'null'],
    [[1], 'an array'],
    [{}, 'an object'],
    [true, 'true (a boolean)'],
    ["it's", `'it's' (a string)`],
  ])('%j -> %s', (value, text) => {
    expect(describeValue(value)).toBe(text);
  });
});
