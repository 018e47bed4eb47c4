/**
 * @amplitude/experiment-node-server 1.13.6's own local-evaluation tests (client, FlagConfigFetcher,
 * FlagConfigPoller), ported to this package's public API. Requests go to the local Amplitude-compatible
 * server instead of Amplitude or the official MockHttpClient; tests that need Amplitude's real project are
 * left out. Where this package differs on purpose (the caller's user object is not given cohort_ids),
 * the test says so.
 */
import { createRequire } from 'node:module';
import { afterEach, describe, expect, it, vi } from 'vitest';
import * as pkg from '../../src/index';
import {
  type Cohort,
  type FlagConfigCache,
  FlagConfigFetcher,
  FlagConfigPoller,
  InMemoryFlagConfigCache,
  LocalEvaluationClient,
  type SimpleHttpClient,
} from '../../src/index';
import { COHORTS, FLAGS, NEW_FLAGS } from '../fixtures/official-mock-data';
import {
  capturingLogger,
  closeClients,
  eventually,
  flag,
  guardUnhandledRejections,
  track as trackClient,
  useLocalServer,
} from '../support';

guardUnhandledRejections();

const requireCjs = createRequire(__filename);
const API_KEY = 'server-key';
afterEach(async () => {
  await closeClients();
  vi.restoreAllMocks();
});

function track<T extends LocalEvaluationClient>(c: T): T {
  return trackClient(c, (client) => client.close({ flushTimeoutMillis: 100 }));
}

/** The official MockHttpClient. */
class MockHttpClient implements SimpleHttpClient {
  constructor(private readonly responder: (url: string) => Promise<{ status: number; body: string }>) {}
  request(requestUrl: string): Promise<{ status: number; body: string }> {
    return this.responder(requestUrl);
  }
}

/** The official InMemoryCohortStorage, reduced to what the poller uses. */
class CohortStorage {
  readonly cohorts = new Map<string, Cohort>();
  getCohort(id: string): Cohort | undefined {
    return this.cohorts.get(id);
  }
  getAllCohortIds(): Set<string> {
    return new Set(this.cohorts.keys());
  }
  put(c: Cohort): void {
    this.cohorts.set(c.cohortId, c);
  }
  delete(id: string): void {
    this.cohorts.delete(id);
  }
}

const served = Object.values(COHORTS).map((c) => ({ ...c, memberIds: [...c.memberIds] }));

describe('exports', () => {
  it('every runtime export of the official package exists here', () => {
    const official = Object.keys(requireCjs('@amplitude/experiment-node-server') as object).filter((k) => k !== '__esModule');
    expect(official.filter((name) => !(name in pkg))).toEqual([]);
  });
});

describe('FlagConfigFetcher (flagConfigFetcher.test.ts)', () => {
  it('fetch, success', async () => {
    const fetcher = new FlagConfigFetcher(API_KEY, new MockHttpClient(async () => ({ status: 200, body: '[]' })));
    await expect(fetcher.fetch()).resolves.toEqual({});
  });

  it('fetch, failure', async () => {
    const fetcher = new FlagConfigFetcher(API_KEY, new MockHttpClient(async () => ({ status: 500, body: '' })));
    await expect(fetcher.fetch()).rejects.toThrow(/status=500/);
  });

  describe('without an httpClient (this package: its own HTTP client)', () => {
    const server = useLocalServer({ flags: Object.values(FLAGS), apiKeys: [API_KEY] }, 'all');

    it('fetches the record of flags keyed by flag key, and hands the raw payload to the receiver', async () => {
      const fetcher = new FlagConfigFetcher(API_KEY, undefined, server.url);
      const raw: string[] = [];
      fetcher.setRawReceiver((text) => raw.push(text));
      expect(await fetcher.fetch()).toEqual(FLAGS);
      expect(JSON.parse(raw[0])).toEqual(Object.values(FLAGS));
    });

    it('rejects with the status on a bad key', async () => {
      await expect(new FlagConfigFetcher('wrong-key', null, server.url).fetch()).rejects.toThrow(/status=401/);
    });
  });
});

describe('FlagConfigPoller (flagConfigPoller.test.ts)', () => {
  /** A cohort fetcher returning each cohort with lastModified = the number of flag polls so far. */
  function cohortFetcher(polls: () => number): { fetch: (id: string) => Promise<Cohort> } {
    return {
      fetch: async (cohortId: string) => ({
        cohortId,
        groupType: '',
        groupTypeId: 0,
        lastComputed: 0,
        lastModified: polls(),
        size: 0,
        memberIds: new Set<string>(),
      }),
    };
  }

  it('flagConfig poller success', async () => {
    const storage = new CohortStorage();
    let flagPolled = 0;
    vi.spyOn(FlagConfigFetcher.prototype, 'fetch').mockImplementation(async () => {
      ++flagPolled;
      if (flagPolled === 1) return { ...FLAGS, flagPolled: { key: flagPolled } };
      return { ...NEW_FLAGS, flagPolled: { key: flagPolled } };
    });
    const poller = new FlagConfigPoller(
      new FlagConfigFetcher('key', null),
      new InMemoryFlagConfigCache(),
      storage,
      cohortFetcher(() => flagPolled),
      50,
    );
    await poller.start();
    expect(flagPolled).toBe(1);
    expect(await poller.cache.getAll()).toStrictEqual({ ...FLAGS, flagPolled: { key: 1 } });
    for (const id of ['usercohort1', 'usercohort2', 'usercohort3', 'usercohort4', 'orgnamecohort1']) {
      expect(storage.getCohort(id)?.lastModified).toBe(1);
    }
    expect(storage.getCohort('anewcohortid')).toBeUndefined();

    await eventually(() => flagPolled >= 2 && storage.getCohort('anewcohortid') !== undefined, 5000, 'second poll');
    poller.stop();
    const polled = flagPolled;
    expect(await poller.cache.getAll()).toStrictEqual({ ...NEW_FLAGS, flagPolled: { key: polled } });
    expect(storage.getCohort('usercohort1')?.lastModified).toBe(1); // already held: not downloaded again
    expect(storage.getCohort('anewcohortid')?.lastModified).toBe(2);
  });

  it('flagConfig poller initial cohort error, still init', async () => {
    const storage = new CohortStorage();
    vi.spyOn(FlagConfigFetcher.prototype, 'fetch').mockImplementation(async () => NEW_FLAGS);
    const poller = new FlagConfigPoller(
      new FlagConfigFetcher('key', null),
      new InMemoryFlagConfigCache(),
      storage,
      { fetch: async () => Promise.reject(new Error('cohort download failed')) },
      10_000,
      undefined,
      capturingLogger(),
    );
    await poller.start();
    expect(await poller.cache.getAll()).toStrictEqual(NEW_FLAGS);
    expect(storage.getAllCohortIds()).toStrictEqual(new Set());
    poller.stop();
  });

  it('flagConfig poller initial success, polling flag success, cohort failed, and still updates flags', async () => {
    const storage = new CohortStorage();
    let flagPolled = 0;
    vi.spyOn(FlagConfigFetcher.prototype, 'fetch').mockImplementation(async () => (++flagPolled === 1 ? FLAGS : NEW_FLAGS));
    let cohortCalls = 0;
    const fetcher = cohortFetcher(() => flagPolled);
    const poller = new FlagConfigPoller(
      new FlagConfigFetcher('key', null),
      new InMemoryFlagConfigCache(),
      storage,
      {
        fetch: async (id: string) => {
          if (++cohortCalls > 5) throw new Error('cohort download failed');
          return fetcher.fetch(id);
        },
      },
      50,
      undefined,
      capturingLogger(),
    );
    await poller.start();
    expect(await poller.cache.getAll()).toStrictEqual(FLAGS);
    expect(flagPolled).toBe(1);
    await eventually(() => flagPolled >= 2, 5000, 'second poll');
    expect(storage.getAllCohortIds().size).toBe(5);
    poller.stop();
    expect(await poller.cache.getAll()).toStrictEqual(NEW_FLAGS);
  });

  it('start() rejects after 5 failed initial fetches', async () => {
    let calls = 0;
    vi.spyOn(FlagConfigFetcher.prototype, 'fetch').mockImplementation(async () => {
      calls++;
      throw new Error('boom');
    });
    const poller = new FlagConfigPoller(
      new FlagConfigFetcher('key', null),
      new InMemoryFlagConfigCache(),
      null,
      null,
      10_000,
      undefined,
      capturingLogger(),
    );
    await expect(poller.start()).rejects.toThrow('boom');
    expect(calls).toBe(5);
  });
});

describe('LocalEvaluationClient integration (client.test.ts), against the local server', () => {
  const server = useLocalServer({ flags: Object.values(FLAGS), apiKeys: [API_KEY], cohorts: served }, 'all');

  const cohortSync = (maxCohortSize: number) => ({
    apiKey: 'apiKey',
    secretKey: 'secretKey',
    maxCohortSize,
    cohortServerUrl: server.url,
  });

  it('ExperimentClient cohort targeting success', async () => {
    const client = track(new LocalEvaluationClient(API_KEY, { serverUrl: server.url, cohortSyncConfig: cohortSync(10) }, null));
    await client.start();
    let result = client.evaluateV2({ user_id: 'membera1', device_id: '1' });
    expect([result.flag1.key, result.flag2.key, result.flag3.key, result.flag4.key]).toEqual(['on', 'on', 'var1', 'var1']);
    result = client.evaluateV2({ user_id: 'membera2', device_id: '1' });
    expect([result.flag1.key, result.flag2.key, result.flag3.key, result.flag4.key]).toEqual(['off', 'on', 'var2', 'var1']);
    result = client.evaluateV2({ user_id: 'membera3', device_id: '1' });
    expect([result.flag1.key, result.flag2.key, result.flag3.key, result.flag4.key]).toEqual(['off', 'on', 'var1', 'var1']);
    result = client.evaluateV2({ user_id: '1', device_id: '1', groups: { 'org name': ['org name 1'] } });
    expect([result.flag1.key, result.flag2.key, result.flag3.key, result.flag4.key]).toEqual(['off', 'off', 'off', 'var2']);
    result = client.evaluateV2({ user_id: '1', device_id: '1' });
    expect([result.flag1.key, result.flag2.key, result.flag3.key, result.flag4.key]).toEqual(['off', 'off', 'off', 'off']);
  });

  it('ExperimentClient cohort no config doesnt throw', async () => {
    const client = track(new LocalEvaluationClient(API_KEY, { serverUrl: server.url, logger: capturingLogger() }, null));
    await client.start();
    const result = client.evaluateV2({ user_id: 'membera1', device_id: '1' });
    expect([result.flag1.key, result.flag2.key, result.flag3.key, result.flag4.key]).toEqual(['off', 'off', 'off', 'off']);
  });

  it('ExperimentClient cohort maxCohortSize download fail', async () => {
    const client = track(
      new LocalEvaluationClient(
        API_KEY,
        { serverUrl: server.url, cohortSyncConfig: cohortSync(0), logger: capturingLogger() },
        null,
      ),
    );
    await client.start();
    const result = client.evaluateV2({ user_id: 'membera1', device_id: '1' });
    expect([result.flag1.key, result.flag2.key, result.flag3.key, result.flag4.key]).toEqual(['off', 'off', 'off', 'off']);
  });

  it("enrichUserWithCohorts: evaluation sees the cohorts (this package leaves the caller's user object as it was)", async () => {
    const client = track(new LocalEvaluationClient(API_KEY, { serverUrl: server.url, cohortSyncConfig: cohortSync(10) }));
    await client.start();
    const user = { user_id: 'membera1', device_id: '1', groups: { 'org name': ['org name 1'] } };
    expect(client.evaluateV2(user).flag4.key).toBe('var1');
    expect(user).toStrictEqual({ user_id: 'membera1', device_id: '1', groups: { 'org name': ['org name 1'] } });
  });

  it('cache.get returns the config of every loaded flag (the normal cases check it per flag)', async () => {
    const client = track(new LocalEvaluationClient(API_KEY, { serverUrl: server.url, logger: capturingLogger() }));
    await client.start();
    for (const key of Object.keys(FLAGS)) expect(await client.cache.get(key)).toEqual(FLAGS[key]);
    expect(await client.cache.get('does-not-exist')).toBeUndefined();
    expect(client.cache.getAllCached()).toEqual(FLAGS);
  });
});

describe('client.cache and the FlagConfigCache argument', () => {
  const server = useLocalServer({ flags: [flag('a'), flag('b', 'off')], apiKeys: [API_KEY] }, 'all');

  it('a change through client.cache changes what evaluateV2 returns, until the next flags from the source', async () => {
    const client = track(new LocalEvaluationClient(API_KEY, { serverUrl: server.url }));
    await client.start();
    expect(client.evaluateV2({ user_id: 'u' }).a.key).toBe('on');

    await client.cache.put('a', flag('a', 'off'));
    expect(client.evaluateV2({ user_id: 'u' }).a.key).toBe('off');
    await client.cache.putAll({ c: flag('c') });
    expect(Object.keys(client.evaluateV2({ user_id: 'u' })).sort()).toEqual(['a', 'b', 'c']);
    await client.cache.delete('b');
    expect(client.evaluateV2({ user_id: 'u' }).b).toBeUndefined();
    expect(Object.keys(await client.cache.getAll()).sort()).toEqual(['a', 'c']);
    await client.cache.clear();
    expect(client.evaluateV2({ user_id: 'u' })).toEqual({});
    expect(client.flagKeys()).toEqual([]);
    // Stopped clients keep evaluating, and keep taking changes through the cache.
    client.stop();
    await client.cache.put('z', flag('z'));
    expect(client.evaluateV2({ user_id: 'u' }).z.key).toBe('on');
  });

  it('a config that fails validation through client.cache is left out and logged; the others stay', async () => {
    const logger = capturingLogger();
    const client = track(new LocalEvaluationClient(API_KEY, { bootstrap: [flag('a')], logger }));
    await client.cache.putAll({ x: { key: 'x', variants: 'not an object' } });
    expect(client.flagKeys()).toEqual(['a']);
    expect(logger.count('error', /flag "x" left out/)).toBe(1);
    // Deleting the last valid one leaves only what failed: the delete still happens, as in the official SDK (a
    // payload from a source with nothing but rejected flags is refused; an edit through the cache is not).
    await client.cache.delete('a');
    expect(client.flagKeys()).toEqual([]);
    expect(client.evaluateV2({ user_id: 'u' })).toEqual({});
  });

  it("the constructor's FlagConfigCache receives every flag update (write-through) and every client.cache change", async () => {
    const calls: string[] = [];
    const store = new InMemoryFlagConfigCache();
    const spy: FlagConfigCache = {
      get: (k) => store.get(k),
      getAll: () => store.getAll(),
      put: async (k, v) => {
        calls.push(`put ${k}`);
        await store.put(k, v);
      },
      putAll: async (all) => {
        calls.push(`putAll ${Object.keys(all).sort().join(',')}`);
        await store.putAll(all);
      },
      delete: async (k) => {
        calls.push(`delete ${k}`);
        await store.delete(k);
      },
      clear: async () => {
        calls.push('clear');
        await store.clear();
      },
    };
    const client = track(
      new LocalEvaluationClient(API_KEY, { serverUrl: server.url, streamUpdates: true, streamServerUrl: server.url }, spy),
    );
    await client.start();
    await eventually(() => calls.length >= 2, 5000, 'write-through');
    expect(calls).toEqual(['clear', 'putAll a,b']);
    expect(await store.get('a')).toEqual(flag('a'));

    server.setFlags([flag('a'), flag('b'), flag('d')]);
    await eventually(() => calls.length >= 4, 5000, 'second write-through');
    expect(calls.slice(2)).toEqual(['clear', 'putAll a,b,d']);

    await client.cache.delete('d');
    expect(calls.at(-1)).toBe('delete d');
    expect(await store.get('d')).toBeUndefined();
    server.setFlags([flag('a'), flag('b')]);
  });

  it('rejects a third argument that is not a FlagConfigCache', () => {
    expect(() => new LocalEvaluationClient(API_KEY, {}, {} as FlagConfigCache)).toThrow(/FlagConfigCache/);
  });
});

describe('restart', () => {
  const server = useLocalServer({ flags: [flag('a')], apiKeys: [API_KEY] }, 'all');

  it('stop() then start() fetches again and resumes updates; close() is final', async () => {
    const client = track(
      new LocalEvaluationClient(API_KEY, { serverUrl: server.url, streamUpdates: true, streamServerUrl: server.url }),
    );
    await client.start();
    client.stop();
    expect(client.status().state).toBe('closed');
    server.setFlags([flag('a'), flag('b')]);
    expect(client.flagKeys()).toEqual(['a']); // stopped: no updates
    await client.start();
    expect(client.flagKeys()).toEqual(['a', 'b']);
    expect(client.status().state).toBe('ready');
    server.setFlags([flag('a'), flag('b'), flag('c')]);
    await eventually(() => client.flagKeys().length === 3, 5000, 'stream update after restart');
    await client.close();
    await expect(client.start()).rejects.toThrow(/closed/);
  });
});
