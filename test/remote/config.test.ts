import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Agent as HttpsAgent } from 'node:https';
import { RemoteEvaluationDefaults as OfficialDefaults } from '@amplitude/experiment-node-server';
import { Agent } from 'undici';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ConfigError, ServerZone } from '../../src/config/common';
import { Defaults, RemoteEvaluationDefaults, resolveRemoteConfig } from '../../src/config/remote';
import type { RemoteEvaluationConfig } from '../../src/config/remote';
import { initializeRemote, resetRemoteInstances } from '../../src/remote/factory';
import { RemoteEvaluationClient } from '../../src/remote/client';
import { LogLevel } from '../../src/util/logger';
import type { LoggerProvider } from '../../src/util/logger';
import { LIBRARY, VERSION } from '../../src/version';

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

function resolveWith(config: RemoteEvaluationConfig) {
  const log = capture();
  const resolved = resolveRemoteConfig({ loggerProvider: log.provider, logLevel: LogLevel.Warn, ...config });
  return { resolved, ...log };
}

describe('RemoteEvaluationDefaults', () => {
  it('match the official defaults except fetchRetries (0, the Python SDK default)', () => {
    const { loggerProvider: _a, fetchRetries: ours, ...rest } = RemoteEvaluationDefaults;
    const { loggerProvider: _b, fetchRetries: theirs, ...officialRest } = OfficialDefaults as typeof RemoteEvaluationDefaults;
    expect(rest).toEqual(officialRest);
    expect(ours).toBe(0);
    expect(theirs).toBe(8);
    expect(Defaults).toEqual(RemoteEvaluationDefaults);
  });

  it('resolve to the documented values with no config', () => {
    const r = resolveRemoteConfig(undefined);
    expect(r).toMatchObject({
      serverZone: ServerZone.US,
      serverUrl: 'https://api.lab.amplitude.com',
      fetchTimeoutMillis: 10000,
      fetchRetries: 0,
      fetchRetryBackoffMinMillis: 500,
      fetchRetryBackoffMaxMillis: 10000,
      fetchRetryBackoffScalar: 1.5,
      fetchRetryTimeoutMillis: 10000,
      instanceName: undefined,
      dispatcher: undefined,
      connections: undefined,
    });
  });
});

describe('resolveRemoteConfig: zones and URLs', () => {
  it.each([
    ['eu', 'https://api.lab.eu.amplitude.com'],
    ['EU', 'https://api.lab.eu.amplitude.com'],
    [ServerZone.EU, 'https://api.lab.eu.amplitude.com'],
    ['us', 'https://api.lab.amplitude.com'],
    [ServerZone.US, 'https://api.lab.amplitude.com'],
  ])('serverZone %s gives %s', (zone, url) => {
    expect(resolveWith({ serverZone: zone }).resolved.serverUrl).toBe(url);
  });

  it('an explicit serverUrl wins over the zone; a trailing slash is dropped', () => {
    const { resolved } = resolveWith({ serverZone: 'eu', serverUrl: 'http://127.0.0.1:8080/' });
    expect(resolved.serverUrl).toBe('http://127.0.0.1:8080');
    expect(resolved.serverZone).toBe(ServerZone.EU);
  });

  it('an unknown zone warns and falls back to US', () => {
    const { resolved, warnings } = resolveWith({ serverZone: 'mars' });
    expect(resolved.serverUrl).toBe('https://api.lab.amplitude.com');
    expect(warnings.join()).toMatch(/serverZone .*got 'mars'/);
  });

  it.each(['not a url', 'ftp://example.com', 42])('a bad serverUrl %j throws ConfigError', (url) => {
    expect(() => resolveWith({ serverUrl: url as string })).toThrow(ConfigError);
  });
});

describe('resolveRemoteConfig: validation', () => {
  it.each<[keyof RemoteEvaluationConfig, unknown, number]>([
    ['fetchTimeoutMillis', -1, 10000],
    ['fetchTimeoutMillis', 'fast', 10000],
    ['fetchTimeoutMillis', NaN, 10000],
    ['fetchRetries', -2, 0],
    ['fetchRetryBackoffMinMillis', -5, 500],
    ['fetchRetryBackoffScalar', 0.5, 1.5],
    ['fetchRetryTimeoutMillis', Infinity, 10000],
  ])('%s = %j warns and uses %d', (key, value, fallback) => {
    const { resolved, warnings } = resolveWith({ [key]: value });
    expect(resolved[key as keyof typeof resolved]).toBe(fallback);
    expect(warnings.join('\n')).toContain(`config.${key}`);
  });

  it('valid values are kept', () => {
    const { resolved, warnings } = resolveWith({
      fetchTimeoutMillis: 0,
      fetchRetries: 3,
      fetchRetryBackoffMinMillis: 10,
      fetchRetryBackoffMaxMillis: 20,
      fetchRetryBackoffScalar: 1,
      fetchRetryTimeoutMillis: 250,
      instanceName: 'second',
    });
    expect(resolved).toMatchObject({
      fetchTimeoutMillis: 0,
      fetchRetries: 3,
      fetchRetryBackoffMinMillis: 10,
      fetchRetryBackoffMaxMillis: 20,
      fetchRetryBackoffScalar: 1,
      fetchRetryTimeoutMillis: 250,
      instanceName: 'second',
    });
    expect(warnings).toEqual([]);
  });

  it('a fractional fetchRetries is floored with a warning', () => {
    const { resolved, warnings } = resolveWith({ fetchRetries: 2.7 });
    expect(resolved.fetchRetries).toBe(2);
    expect(warnings.join()).toMatch(/integer/);
  });

  it('max below min is raised to min with a warning', () => {
    const { resolved, warnings } = resolveWith({ fetchRetryBackoffMinMillis: 800, fetchRetryBackoffMaxMillis: 100 });
    expect(resolved.fetchRetryBackoffMaxMillis).toBe(800);
    expect(warnings.join()).toMatch(/fetchRetryBackoffMaxMillis/);
  });

  it('unknown options warn, with a hint for Python-style names', () => {
    const { warnings } = resolveWith({ fetch_retries: 2, colour: 'blue' } as RemoteEvaluationConfig);
    expect(warnings.join('\n')).toMatch(/config.fetch_retries .*did you mean fetchRetries\?/);
    expect(warnings.join('\n')).toMatch(/config.colour is not a remote evaluation option/);
  });

  it('a non-dispatcher dispatcher throws ConfigError; an undici Agent is accepted', async () => {
    expect(() => resolveWith({ dispatcher: {} as never })).toThrow(ConfigError);
    const agent = new Agent();
    expect(resolveWith({ dispatcher: agent }).resolved.dispatcher).toBe(agent);
    await agent.close();
  });

  it('httpAgent is kept as given, and does not set the connection limit', () => {
    const agent = new HttpsAgent({ keepAlive: true, maxSockets: 7 });
    const { resolved, warnings } = resolveWith({ httpAgent: agent });
    expect(resolved.httpAgent).toBe(agent);
    expect(resolved.connections).toBeUndefined();
    expect(warnings).toEqual([]);
    agent.destroy();
  });

  it('connectionPoolMaxSize (Python) maps to the connection limit', () => {
    expect(resolveWith({ connectionPoolMaxSize: 4 }).resolved.connections).toBe(4);
    const bad = resolveWith({ connectionPoolMaxSize: 0 });
    expect(bad.resolved.connections).toBeUndefined();
    expect(bad.warnings.join()).toMatch(/connectionPoolMaxSize/);
  });

  it('debug: true enables debug logging through loggerProvider', () => {
    const debug = vi.fn();
    const r = resolveRemoteConfig({ debug: true, loggerProvider: { debug, info: debug, warn: debug, error: debug } });
    r.logger.debug('hello');
    expect(debug).toHaveBeenCalledWith('[Experiment] hello');
  });

  it('a Python-style logger keeps its own level and receives everything', () => {
    const seen: string[] = [];
    const logger = {
      debug: (m: string) => void seen.push('debug:' + m),
      info: (m: string) => void seen.push('info:' + m),
      warn: (m: string) => void seen.push('warn:' + m),
      error: (m: string) => void seen.push('error:' + m),
    };
    const r = resolveRemoteConfig({ logger, logLevel: LogLevel.Error });
    r.logger.debug('d');
    expect(seen).toEqual(['debug:[Experiment] d']);
  });

  it('the API key never appears in logs', async () => {
    const all: string[] = [];
    const provider: LoggerProvider = {
      debug: (...a: unknown[]) => void all.push(JSON.stringify(a)),
      info: (...a: unknown[]) => void all.push(JSON.stringify(a)),
      warn: (...a: unknown[]) => void all.push(JSON.stringify(a)),
      error: (...a: unknown[]) => void all.push(String(a[0]) + String(a[1])),
    };
    const c = new RemoteEvaluationClient('secret-deployment-key', {
      serverUrl: 'http://127.0.0.1:9',
      loggerProvider: provider,
      logLevel: LogLevel.Verbose,
      fetchTimeoutMillis: 2000,
    });
    await c.fetchV2({ user_id: 'u' }).catch(() => undefined);
    await c.close();
    expect(all.length).toBeGreaterThan(0);
    expect(all.join('\n')).not.toContain('secret-deployment-key');
  });
});

describe('initializeRemote', () => {
  afterEach(() => resetRemoteInstances());

  it('one client per `${apiKey}-${instanceName}`; a second call ignores its config', async () => {
    const a = initializeRemote('key-1', { serverUrl: 'http://127.0.0.1:1' });
    const b = initializeRemote('key-1', { serverUrl: 'http://127.0.0.1:2' });
    const c = initializeRemote('key-1', { instanceName: 'other' });
    const d = initializeRemote('key-2');
    expect(b).toBe(a);
    expect(c).not.toBe(a);
    expect(d).not.toBe(a);
    expect(initializeRemote('key-1', { instanceName: 'other' })).toBe(c);
    await Promise.all([a, c, d].map((x) => x.close()));
  });

  it('a closed client is replaced by a new one', async () => {
    const a = initializeRemote('key-3');
    await a.close();
    const b = initializeRemote('key-3');
    expect(b).not.toBe(a);
    expect(b.isClosed).toBe(false);
    await b.close();
  });
});

describe('version', () => {
  it('VERSION equals package.json and LIBRARY is amplitude-experiment-native/<version>', () => {
    const pkg = JSON.parse(readFileSync(join(__dirname, '../../package.json'), 'utf8')) as { version: string };
    expect(VERSION).toBe(pkg.version);
    expect(LIBRARY).toBe(`amplitude-experiment-native/${pkg.version}`);
  });
});
