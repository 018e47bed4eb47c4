/** Client events ('update', 'update:<key>', 'error', 'status') and client.status(), for every kind of source. */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { TestData } from '../../src/testing/test-data';
import { PERSISTENCE_FORMAT } from '../../src/local/persistence';
import type { ClientErrorEvent, ClientStatus, FlagsUpdatedEvent, FlagUpdatedEvent } from '../../src/local/events';
import {
  API_KEY,
  capturingLogger,
  cohortFlag,
  eventually,
  FAST_START,
  flag,
  guardUnhandledRejections,
  localClient,
  afterThisTurn,
  tempDir,
  useLocalServer,
} from '../support';

guardUnhandledRejections();

const server = useLocalServer({
  flags: [flag('a'), flag('b')],
  apiKeys: [API_KEY],
  cohorts: [{ cohortId: 'c1', memberIds: ['u1'] }],
});

function record<T>(): { events: T[]; listener: (e: T) => void } {
  const events: T[] = [];
  return { events, listener: (e: T) => void events.push(e) };
}

describe("'update' events", () => {
  it('TestData: added, changed by content, removed; the same flags again emit nothing', () => {
    const td = new TestData();
    td.update(td.flag('x').variations('on').fallthroughVariation('on'));
    const c = localClient({ dataSource: td, logger: capturingLogger() });
    const updates = record<FlagsUpdatedEvent>();
    const perKey = record<FlagUpdatedEvent>();
    c.on('update', updates.listener);
    c.on('update:x', perKey.listener);

    td.update(td.flag('y').booleanFlag());
    expect(updates.events).toEqual([{ flagKeys: ['y'], added: ['y'], removed: [], changed: [], source: 'data-source' }]);
    expect(perKey.events).toEqual([]);

    td.update(td.flag('x')); // same definition: nothing changed
    expect(updates.events).toHaveLength(1);

    td.update(td.flag('x').fallthroughVariation('off'));
    expect(updates.events[1]).toMatchObject({ flagKeys: ['x'], changed: ['x'], source: 'data-source' });
    expect(perKey.events).toEqual([{ flagKey: 'x', kind: 'changed', source: 'data-source' }]);

    td.delete('x');
    expect(updates.events[2]).toMatchObject({ flagKeys: ['x'], removed: ['x'] });
    expect(perKey.events[1]).toEqual({ flagKey: 'x', kind: 'removed', source: 'data-source' });
  });

  it('a flag whose dependency changed counts as changed (transitively)', () => {
    const td = new TestData();
    td.update(
      td.flag('base').variations('on').fallthroughVariation('on'),
      td.flag('mid').booleanFlag().dependsOn('base'),
      td.flag('top').booleanFlag().dependsOn('mid'),
      td.flag('other').booleanFlag(),
    );
    const c = localClient({ dataSource: td, logger: capturingLogger() });
    const updates = record<FlagsUpdatedEvent>();
    c.on('update', updates.listener);
    td.update(td.flag('base').fallthroughVariation('off'));
    expect(updates.events).toHaveLength(1);
    expect(updates.events[0].changed).toEqual(['base', 'mid', 'top']);
  });

  it('polling: the first install reports every flag as added, with source poll', async () => {
    const c = localClient({ serverUrl: server.url, logger: capturingLogger() });
    const updates = record<FlagsUpdatedEvent>();
    c.on('update', updates.listener);
    await c.start();
    expect(updates.events).toEqual([{ flagKeys: ['a', 'b'], added: ['a', 'b'], removed: [], changed: [], source: 'poll' }]);
  });

  it('streaming: a pushed change emits once for the changed flag only', async () => {
    const c = localClient({ serverUrl: server.url, streamUpdates: true, streamServerUrl: server.url, logger: capturingLogger() });
    await c.start();
    const updates = record<FlagsUpdatedEvent>();
    c.on('update', updates.listener);
    server.setFlags([flag('a'), flag('b', 'off', 2)]);
    await eventually(() => updates.events.length > 0, 5000, 'update event');
    expect(updates.events).toEqual([{ flagKeys: ['b'], added: [], removed: [], changed: ['b'], source: 'stream' }]);
  });

  it('flags file: a change on disk emits an update with source file', async () => {
    const file = join(tempDir('events'), 'flags.json');
    writeFileSync(file, JSON.stringify([flag('a')]));
    const c = localClient({ flagsFile: file, flagsFilePollIntervalMillis: 20, logger: capturingLogger() });
    await c.start();
    const updates = record<FlagsUpdatedEvent>();
    c.on('update', updates.listener);
    writeFileSync(file, JSON.stringify([flag('a'), flag('n')]));
    await eventually(() => updates.events.length > 0, 5000, 'update event');
    expect(updates.events[0]).toMatchObject({ added: ['n'], source: 'file' });
  });

  it('bootstrap installs count (listeners added later see the next change relative to it)', async () => {
    const c = localClient({ serverUrl: server.url, bootstrap: [flag('a'), flag('b', 'off')], logger: capturingLogger() });
    expect(c.status()).toMatchObject({ source: 'bootstrap', flagCount: 2, state: 'ready' });
    const updates = record<FlagsUpdatedEvent>();
    c.on('update', updates.listener);
    await c.start();
    expect(updates.events).toEqual([{ flagKeys: ['b'], added: [], removed: [], changed: ['b'], source: 'poll' }]);
  });

  it('a cohort whose members change emits an update for the flags that target it (source cohort)', async () => {
    server.setFlags([cohortFlag('gated', 'c1'), flag('plain')]);
    const c = localClient(
      {
        serverUrl: server.url,
        cohortSyncConfig: { apiKey: 'k', secretKey: 's', cohortServerUrl: server.url },
        logger: capturingLogger(),
      },
      { cohortPollingIntervalMillis: 50 },
    );
    await c.start();
    expect(c.evaluateV2({ user_id: 'u2' }, ['gated']).gated?.key).toBe('off');
    const updates = record<FlagsUpdatedEvent>();
    c.on('update', updates.listener);
    server.setCohort({ cohortId: 'c1', memberIds: ['u1', 'u2'], lastModified: Date.now() + 1000 });
    await eventually(() => updates.events.length > 0, 5000, 'cohort update event');
    expect(updates.events[0]).toEqual({ flagKeys: ['gated'], added: [], removed: [], changed: ['gated'], source: 'cohort' });
    expect(c.evaluateV2({ user_id: 'u2' }, ['gated']).gated?.key).toBe('on');
  });
});

describe('listeners', () => {
  it('a throwing listener is logged and does not stop other listeners or the install', () => {
    const logger = capturingLogger();
    const td = new TestData();
    const c = localClient({ dataSource: td, logger });
    const seen: string[] = [];
    c.on('update', () => {
      throw new Error('listener bug');
    });
    c.on('update', (e) => void seen.push(...e.flagKeys));
    td.update(td.flag('z').booleanFlag());
    expect(seen).toEqual(['z']);
    expect(c.flagKeys()).toEqual(['z']);
    expect(logger.count('error', /'update' listener threw.*listener bug/)).toBe(1);
  });

  it('an async listener that rejects is logged, not left as an unhandled rejection', async () => {
    const logger = capturingLogger();
    const td = new TestData();
    const c = localClient({ dataSource: td, logger });
    c.on('update', async () => {
      await Promise.resolve();
      throw new Error('async listener bug');
    });
    td.update(td.flag('z').booleanFlag());
    expect(c.flagKeys()).toEqual(['z']);
    await eventually(() => logger.count('error', /'update' listener threw.*async listener bug/) === 1);
  });

  it('an async once() listener that rejects is logged, not left as an unhandled rejection', async () => {
    const logger = capturingLogger();
    const td = new TestData();
    const c = localClient({ dataSource: td, logger });
    c.once('update', async () => {
      await Promise.resolve();
      throw new Error('async once bug');
    });
    td.update(td.flag('z').booleanFlag());
    await eventually(() => logger.count('error', /'update' listener threw.*async once bug/) === 1);
    td.update(td.flag('y').booleanFlag()); // removed after the first call
    await afterThisTurn();
    expect(logger.count('error', 'async once bug')).toBe(1);
  });

  it('off() and once() remove listeners', () => {
    const td = new TestData();
    const c = localClient({ dataSource: td, logger: capturingLogger() });
    const a = record<FlagsUpdatedEvent>();
    const b = record<FlagsUpdatedEvent>();
    c.on('update', a.listener).once('update', b.listener);
    td.update(td.flag('p').booleanFlag());
    c.off('update', a.listener);
    td.update(td.flag('q').booleanFlag());
    expect(a.events).toHaveLength(1);
    expect(b.events).toHaveLength(1);
    const never = record<FlagsUpdatedEvent>();
    c.once('update', never.listener).off('update', never.listener);
    td.update(td.flag('r').booleanFlag());
    expect(never.events).toHaveLength(0);
  });

  it('rejects a listener that is not a function', () => {
    const c = localClient({ dataSource: new TestData(), logger: capturingLogger() });
    // @ts-expect-error: wrong type on purpose
    expect(() => c.on('update', 'nope')).toThrow(TypeError);
  });
});

describe("'error' events", () => {
  it('are emitted for failed refreshes and unusable payloads, and never throw without a listener', async () => {
    const logger = capturingLogger();
    server.injectFaults('flags', { status: 503 }, { status: 200, body: '[{"garbage"' });
    const quiet = localClient({ serverUrl: server.url, logger }, FAST_START);
    await quiet.start(); // no 'error' listener: nothing thrown, nothing unhandled
    server.injectFaults('flags', { status: 503 }, { status: 200, body: '{"not":"an array"}' });
    const c = localClient({ serverUrl: server.url, logger }, FAST_START);
    const errors = record<ClientErrorEvent>();
    c.on('error', errors.listener);
    await c.start();
    expect(errors.events.map((e) => e.source)).toEqual(['poll', 'poll']);
    expect(errors.events[0].message).toMatch(/503/);
    expect(errors.events[1].error).toBeInstanceOf(Error);
    expect(c.status().lastError).toBe(errors.events[1].message);
    expect(c.status().lastErrorAt).toBeTypeOf('number');
  });
});

describe('status()', () => {
  it('goes initializing -> ready; stale while nothing confirms the flags; ready again; closed', async () => {
    // Stream keep-alives confirm the flags; the stale period is shortened to 300 ms.
    server.setStreamOptions({ keepAliveMillis: 30 });
    const c = localClient(
      { serverUrl: server.url, streamUpdates: true, streamServerUrl: server.url, logger: capturingLogger() },
      { staleAfterMillis: 300, stream: { keepAliveTimeoutMillis: 10_000 } },
    );
    const seen = record<ClientStatus>();
    c.on('status', seen.listener);
    expect(c.status()).toMatchObject({
      state: 'initializing',
      stale: false,
      flagCount: 0,
      source: undefined,
      lastUpdatedAt: undefined,
    });
    const before = Date.now();
    await c.start();
    const ready = c.status();
    expect(ready).toMatchObject({ state: 'ready', stale: false, source: 'stream', flagCount: 2 });
    expect(ready.lastUpdatedAt).toBeGreaterThanOrEqual(before);
    // Keep-alives keep it fresh for longer than the stale period.
    await eventually(() => (c.status().lastUpdatedAt ?? 0) > (ready.lastUpdatedAt ?? 0) + 600, 5000, 'keep-alives');
    expect(c.status().state).toBe('ready');
    server.setStreamOptions({ keepAliveMillis: 0 });
    await eventually(() => c.status().stale, 5000, 'stale');
    expect(c.status().state).toBe('stale');
    server.setStreamOptions({ keepAliveMillis: 30 });
    await eventually(() => c.status().state === 'ready', 5000, 'ready again');
    c.stop();
    expect(c.status().state).toBe('closed');
    expect(seen.events.map((s) => s.state)).toEqual(['ready', 'stale', 'ready', 'closed']);
  });

  it('is error when start() failed without flags', async () => {
    server.injectFaults('flags', { status: 401, times: Infinity });
    const c = localClient({ serverUrl: server.url, logger: capturingLogger() });
    await expect(c.start()).rejects.toThrow(/401/);
    expect(c.status()).toMatchObject({ state: 'error', stale: false, flagCount: 0 });
  });

  it('serving last-known-good flags is stale, with source last-known-good, until the server answers', async () => {
    const dir = tempDir('events-lkg');
    const path = join(dir, 'flags.json');
    writeFileSync(
      path,
      JSON.stringify({ format: PERSISTENCE_FORMAT, savedAt: '2026-01-01T00:00:00Z', cohorts: [], flags: [flag('a')] }),
    );
    server.injectFaults('flags', { status: 503, times: Infinity });
    const c = localClient({ serverUrl: server.url, persistence: { path, startFallbackMillis: 50 }, logger: capturingLogger() });
    const updates = record<FlagsUpdatedEvent>();
    c.on('update', updates.listener);
    await c.start();
    expect(c.status()).toMatchObject({ state: 'stale', stale: true, source: 'last-known-good', flagCount: 1 });
    expect(updates.events[0]).toMatchObject({ added: ['a'], source: 'last-known-good' });
  });

  it('file and data sources never go stale', async () => {
    const td = new TestData();
    td.update(td.flag('x').booleanFlag());
    const c = localClient({ dataSource: td, logger: capturingLogger() }, { staleAfterMillis: undefined });
    await c.start();
    expect(c.status()).toMatchObject({ state: 'ready', source: 'data-source', stale: false, flagCount: 1 });
  });
});
