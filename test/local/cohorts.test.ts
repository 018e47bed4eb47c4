import { randomUUID } from 'node:crypto';
import { LocalEvaluationClient as OfficialClient } from '@amplitude/experiment-node-server';
import { beforeEach, describe, expect, it } from 'vitest';
import { createCohortStore, type CohortStore } from '../../src/engine/cohort-store';
import { buildCohortIndex, extractCohortIdsByGroup } from '../../src/local/cohort-utils';
import { enrichUser } from '../../src/local/cohort-utils';
import { loadEngine } from '../../src/engine';
import type { EvaluationFlag, ExperimentUser } from '../../src/types';
import { baseDelay } from '../../src/util/backoff';
import { LIBRARY } from '../../src/version';
import {
  API_KEY,
  capturingLogger,
  cohortFlag,
  eventually,
  FAST_POLLING,
  flag,
  guardUnhandledRejections,
  localClient,
  nativeAddonLoaded,
  notInCohortFlag,
  silentLogger,
  useLocalServer,
} from '../support';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const { CohortUtils } = require('@amplitude/experiment-node-server/dist/src/util/cohort') as {
  CohortUtils: { extractCohortIdsByGroupFromFlag(flag: unknown): Record<string, Set<string>> };
};

guardUnhandledRejections();

const silent = silentLogger;

function body(value: unknown): Buffer {
  return Buffer.from(JSON.stringify(value));
}

for (const kind of ['native', 'js'] as const) {
  describe.skipIf(kind === 'native' && !nativeAddonLoaded)(`cohort store (${kind})`, () => {
    let store: CohortStore;
    beforeEach(() => {
      store = createCohortStore(kind);
      expect(store.kind).toBe(kind);
    });

    it('loads a cohort and answers membership exactly', async () => {
      const uuid = '6ba7b810-9dad-11d1-80b4-00c04fd430c8';
      const ids = ['u1', 'ü-ñ', '😀', uuid, 'x'.repeat(300), '', '\ud800lone'];
      const info = await store.load(
        body({
          cohortId: 'c1',
          groupType: 'User',
          groupTypeId: 5,
          lastComputed: 7,
          lastModified: 1700000000123,
          size: 42,
          memberIds: ids,
        }),
        'fallback',
      );
      expect(info).toMatchObject({
        cohortId: 'c1',
        groupType: 'User',
        groupTypeId: 5,
        lastComputed: 7,
        lastModified: 1700000000123,
        size: 42,
        memberCount: ids.length,
      });
      for (const id of ids) expect(store.memberOf('User', id, ['c1'])).toEqual(['c1']);
      for (const id of ['u2', 'U1', uuid.toUpperCase(), uuid.slice(0, 35), 'x'.repeat(299), '\ufffdlone', ' u1']) {
        expect(store.memberOf('User', id, ['c1'])).toEqual([]);
      }
      expect(store.memberOf('User', 123, ['c1'])).toEqual([]);
      expect(store.memberOf('org', 'u1', ['c1'])).toEqual([]); // wrong group type
      expect(store.memberOf('User', 'u1', ['nope', 'c1', 'c1'])).toEqual(['c1', 'c1']);
      expect(store.ids()).toEqual(['c1']);
      expect(store.info('c1')?.lastModified).toBe(1700000000123);
    });

    it('decodes escapes, drops duplicates and non-string members', async () => {
      const text = '{"memberIds": ["a\\u00e9", "\\ud83d\\ude00", "q\\"t", "a\\u00e9", 5, null, "tab\\t"], "groupType": "org"}';
      const info = await store.load(Buffer.from(text), 'named-by-request');
      expect(info.cohortId).toBe('named-by-request');
      expect(info.memberCount).toBe(4);
      for (const id of ['aé', '😀', 'q"t', 'tab\t'])
        expect(store.memberOf('org', id, ['named-by-request'])).toEqual(['named-by-request']);
    });

    it('rejects payloads JSON.parse rejects, and keeps the loaded cohort', async () => {
      await store.load(body({ cohortId: 'c1', groupType: 'User', memberIds: ['u1'] }), 'c1');
      for (const bad of [
        '{"cohortId": "c1", "memberIds": ["u2"',
        '<html>',
        '{"cohortId":"c1","memberIds":["u2"]} x',
        '{"cohortId":"c1"}',
        '{"memberIds":["a\u0001"]}',
      ]) {
        await expect(store.load(Buffer.from(bad), 'c1')).rejects.toThrow(/cohort payload not parsed/);
      }
      expect(store.memberOf('User', 'u1', ['c1'])).toEqual(['c1']);
      expect(store.memberOf('User', 'u2', ['c1'])).toEqual([]);
    });

    it('loads an empty cohort, with memberIds anywhere in the object', async () => {
      for (const text of [
        '{"cohortId":"c0","groupType":"User","lastModified":5,"size":0,"memberIds":[]}',
        '{"memberIds": [ ],"cohortId":"c0","groupType":"User","lastModified":6}',
      ]) {
        const info = await store.load(Buffer.from(text), 'c0');
        expect(info).toMatchObject({ cohortId: 'c0', groupType: 'User', memberCount: 0 });
        expect(store.has('c0')).toBe(true);
        expect(store.memberOf('User', 'u1', ['c0'])).toEqual([]);
      }
    });

    it('replaces and removes cohorts', async () => {
      await store.load(body({ cohortId: 'c1', groupType: 'User', memberIds: ['u1'] }), 'c1');
      await store.load(body({ cohortId: 'c1', groupType: 'User', memberIds: ['u2'], lastModified: 2 }), 'c1');
      expect(store.memberOf('User', 'u1', ['c1'])).toEqual([]);
      expect(store.memberOf('User', 'u2', ['c1'])).toEqual(['c1']);
      expect(store.remove('c1')).toBe(true);
      expect(store.has('c1')).toBe(false);
      expect(store.memoryBytes()).toBe(0);
    });

    it('releaseFreeMemory resolves (a no-op for the JS store)', async () => {
      const released = await store.releaseFreeMemory();
      expect(typeof released).toBe('boolean');
      if (kind === 'js') expect(released).toBe(false);
    });

    it('agrees with a Set on 50,000 random ids', async () => {
      const members = Array.from({ length: 50_000 }, (_, i) => (i % 3 === 0 ? `user-${i}@example.com` : randomUUID()));
      await store.load(body({ cohortId: 'big', groupType: 'User', memberIds: members }), 'big');
      const set = new Set(members);
      const probes = [
        ...members.slice(0, 2000),
        ...Array.from({ length: 2000 }, () => randomUUID()),
        'user-3@example.com',
        'user-1@example.com',
      ];
      for (const p of probes) expect(store.memberOf('User', p, ['big']).length).toBe(set.has(p) ? 1 : 0);
      if (kind === 'native') expect(store.memoryBytes() / members.length).toBeLessThan(40);
    });
  });
}

describe('cohort id extraction', () => {
  const flags: EvaluationFlag[] = [
    cohortFlag('f1', 'c1', { groupType: 'org', cohortId: 'g1' }),
    notInCohortFlag('f2', 'c2'),
    {
      key: 'f3',
      variants: {},
      segments: [
        {
          conditions: [
            [
              { op: 'set contains any', selector: ['context', 'user', 'cohort_ids'], values: ['c3', 'c1'] },
              { op: 'set contains', selector: ['context', 'user', 'cohort_ids'], values: ['not-a-cohort-filter'] },
              { op: 'set contains any', selector: ['context', 'cohort_ids'], values: ['too-short'] },
              { op: 'set contains any', selector: ['context', 'other', 'x', 'cohort_ids'], values: ['ignored'] },
            ],
          ],
        },
        {},
      ],
    },
  ];

  it('matches the official CohortUtils flag by flag', () => {
    for (const f of flags) {
      const ours = extractCohortIdsByGroup(f as unknown as Record<string, unknown>);
      const theirs = CohortUtils.extractCohortIdsByGroupFromFlag(f);
      expect(Object.fromEntries([...ours].map(([k, v]) => [k, [...v]]))).toEqual(
        Object.fromEntries(Object.entries(theirs).map(([k, v]) => [k, [...v]])),
      );
    }
  });

  it('indexes a snapshot by group and by flag; none for cohort-free flags', () => {
    const snapshot = loadEngine().load(JSON.stringify(flags));
    const index = buildCohortIndex(snapshot);
    expect(index?.user).toEqual(expect.arrayContaining(['c1', 'c2', 'c3']));
    expect(index?.byGroup.get('org')).toEqual(['g1']);
    expect([...(index?.byFlag.get('f2') ?? [])]).toEqual(['c2']);
    expect(buildCohortIndex(loadEngine().load(JSON.stringify([flag('plain')])))).toBeUndefined();
  });
});

describe('user enrichment', () => {
  it('sets the same cohort_ids and group_cohort_ids as the official enrichUserWithCohorts, without mutating', async () => {
    const flags = [cohortFlag('f1', 'c1', { groupType: 'org', cohortId: 'g1' }), notInCohortFlag('f2', 'c2')];
    const store = createCohortStore();
    await store.load(body({ cohortId: 'c1', groupType: 'User', memberIds: ['u1', 'u2'] }), 'c1');
    await store.load(body({ cohortId: 'c2', groupType: 'User', memberIds: ['u2'] }), 'c2');
    await store.load(body({ cohortId: 'g1', groupType: 'org', memberIds: ['acme'] }), 'g1');
    const official = new OfficialClient('k', { loggerProvider: silent });
    official.cohortStorage.put({
      cohortId: 'c1',
      groupType: 'User',
      memberIds: new Set(['u1', 'u2']),
      lastModified: 1,
      size: 2,
      groupTypeId: 0,
      lastComputed: 0,
    });
    official.cohortStorage.put({
      cohortId: 'c2',
      groupType: 'User',
      memberIds: new Set(['u2']),
      lastModified: 1,
      size: 1,
      groupTypeId: 0,
      lastComputed: 0,
    });
    official.cohortStorage.put({
      cohortId: 'g1',
      groupType: 'org',
      memberIds: new Set(['acme']),
      lastModified: 1,
      size: 1,
      groupTypeId: 0,
      lastComputed: 0,
    });
    const index = buildCohortIndex(loadEngine().load(JSON.stringify(flags)));
    if (!index) throw new Error('no index');
    const flagMap = Object.fromEntries(flags.map((f) => [f.key, f]));
    const users: ExperimentUser[] = [
      { user_id: 'u1' },
      { user_id: 'u2', cohort_ids: ['stale'] },
      { user_id: 'u3', groups: { org: ['acme', 'second'] } },
      { device_id: 'd', groups: { org: ['other'], team: ['x'] }, group_cohort_ids: { org: { keep: ['z'] } } },
      { user_id: '', groups: { org: [] } },
      { user_id: 'u1', groups: {} },
    ];
    for (const user of users) {
      const before = JSON.stringify(user);
      const ours = enrichUser(user, index, store);
      expect(JSON.stringify(user)).toBe(before);
      const copy = JSON.parse(before) as ExperimentUser;
      (official as unknown as { enrichUserWithCohorts(u: unknown, f: unknown): void }).enrichUserWithCohorts(copy, flagMap);
      expect(ours).toEqual(copy);
    }
    official.stop();
  });
});

describe('cohort sync in the client', () => {
  const cohortKeys = { apiKey: 'cohort-api', secretKey: 'cohort-secret' };
  const flags = [cohortFlag('f1', 'c1', { groupType: 'org', cohortId: 'g1' }), notInCohortFlag('f2', 'c2'), flag('plain')];

  const server = useLocalServer({
    flags,
    apiKeys: [API_KEY],
    cohortKeys: [cohortKeys],
    cohorts: [
      { cohortId: 'c1', memberIds: ['u1', 'u2'], lastModified: 100 },
      { cohortId: 'c2', memberIds: ['u2'], lastModified: 100 },
      { cohortId: 'g1', groupType: 'org', memberIds: ['acme'], lastModified: 100 },
    ],
  });

  function client(logger = capturingLogger(), internals: Record<string, unknown> = {}, extra: Record<string, unknown> = {}) {
    return localClient(
      {
        serverUrl: server.url,
        cohortSyncConfig: { ...cohortKeys, cohortServerUrl: server.url },
        logger,
        ...extra,
      },
      {
        ...FAST_POLLING,
        cohortRetryBackoff: { minMillis: 20, maxMillis: 100, scalar: 2 },
        cohortMissingRetryBackoff: { minMillis: 100, maxMillis: 400, scalar: 2 },
        ...internals,
      },
    );
  }

  it('start() resolves with the cohorts loaded; requests carry Basic auth, maxCohortSize and the library', async () => {
    const c = client();
    await c.start();
    const reqs = server.requests('cohort');
    expect(reqs.map((r) => r.path).sort()).toEqual(['/sdk/v1/cohort/c1', '/sdk/v1/cohort/c2', '/sdk/v1/cohort/g1']);
    for (const r of reqs) {
      expect(r.headers.authorization).toBe('Basic ' + Buffer.from('cohort-api:cohort-secret').toString('base64'));
      expect(r.headers['x-amp-exp-library']).toBe(LIBRARY);
      expect(r.url).toMatch(/\?maxCohortSize=2147483647$/);
    }
    const user = { user_id: 'u1' };
    expect(c.evaluateV2(user, ['f1']).f1.key).toBe('on');
    expect(user).toEqual({ user_id: 'u1' });
    expect(c.evaluateV2({ user_id: 'u2' }, ['f2']).f2.key).toBe('off');
    expect(c.evaluateV2({ user_id: 'u1' }, ['f2']).f2.key).toBe('on');
    expect(c.evaluateV2({ user_id: 'u9', groups: { org: ['acme'] } }, ['f1']).f1.key).toBe('on');
    expect(c.evaluateV2({ user_id: 'u9', groups: { org: ['other'] } }, ['f1']).f1.key).toBe('off');
  });

  it('evaluates exactly like the official SDK against the same server', async () => {
    const c = client();
    await c.start();
    const official = new OfficialClient(API_KEY, {
      serverUrl: server.url,
      cohortSyncConfig: { ...cohortKeys, cohortServerUrl: server.url },
      loggerProvider: silent,
    });
    await official.start();
    try {
      const users: ExperimentUser[] = [
        { user_id: 'u1' },
        { user_id: 'u2', device_id: 'd2' },
        { user_id: 'nobody' },
        { device_id: 'only-device' },
        { user_id: 'u3', groups: { org: ['acme'] } },
        { groups: { org: ['acme'] } },
        { user_id: 'u1', cohort_ids: ['c2'] },
      ];
      for (const u of users) {
        expect(c.evaluateV2(JSON.parse(JSON.stringify(u)) as ExperimentUser)).toEqual(
          official.evaluateV2(JSON.parse(JSON.stringify(u)) as ExperimentUser),
        );
      }
    } finally {
      official.stop();
    }
  });

  it('refreshes with lastModified: 204 keeps the cohort, a newer one replaces it', async () => {
    const c = client(capturingLogger(), { cohortPollingIntervalMillis: 150 });
    await c.start();
    await eventually(() => server.requests('cohort').some((r) => r.url.includes('lastModified=100')), 5000, 'refresh');
    const refresh = server.requests('cohort').find((r) => r.url.includes('lastModified=100'));
    expect(refresh?.status).toBe(204);
    expect(c.evaluateV2({ user_id: 'u1' }, ['f1']).f1.key).toBe('on');
    server.setCohort({ cohortId: 'c1', memberIds: ['u7'], lastModified: 200 });
    await eventually(() => c.evaluateV2({ user_id: 'u7' }, ['f1']).f1.key === 'on', 5000, 'refreshed members');
    expect(c.evaluateV2({ user_id: 'u1' }, ['f1']).f1.key).toBe('off');
  });

  it('413: not loaded, logged once per cohort however many evaluations', async () => {
    server.setCohort({ cohortId: 'c1', memberIds: ['u1', 'u2', 'u3'], lastModified: 100 });
    const logger = capturingLogger();
    const c = client(logger, {}, { cohortSyncConfig: { ...cohortKeys, cohortServerUrl: server.url, maxCohortSize: 2 } });
    await c.start();
    expect(server.requests('cohort').find((r) => r.path.endsWith('/c1'))?.status).toBe(413);
    expect(logger.count('error', /cohort c1 is not loaded.*maxCohortSize 2/)).toBe(1);
    for (let i = 0; i < 50; i++) expect(c.evaluateV2({ user_id: 'u1' }, ['f1']).f1.key).toBe('off');
    expect(logger.count('error', /has cohort ids c1 unavailable/)).toBe(1);
  });

  it('401 from the cohort server: one request, a clear error, no retry storm', async () => {
    server.state.cohortKeys.clear();
    server.state.cohortKeys.add(Buffer.from('other:keys').toString('base64'));
    const logger = capturingLogger();
    const c = client(logger);
    await c.start();
    expect(server.requests('cohort').filter((r) => r.path.endsWith('/c1'))).toHaveLength(1);
    expect(logger.count('error', /status 401.*apiKey and secretKey/)).toBeGreaterThan(0);
    expect(c.evaluateV2({ user_id: 'u1' }, ['plain']).plain.key).toBe('on');
  });

  it.each([
    ['5xx', { status: 503 }],
    ['429', { status: 429 }],
    ['408', { status: 408 }],
    ['reset', { reset: true }],
    ['garbage 200', { status: 200, body: '<html>oops' }],
    ['truncated', { truncate: true }],
    ['slow body', { slowBodyMs: 300, status: 500 }],
  ])('retries after %s and loads the cohort', async (_name, fault) => {
    server.injectFaults('cohort', { ...fault, times: 2 });
    const c = client();
    await c.start();
    expect(c.evaluateV2({ user_id: 'u1' }, ['f1']).f1.key).toBe('on');
    expect(c.evaluateV2({ user_id: 'u9', groups: { org: ['acme'] } }, ['f1']).f1.key).toBe('on');
  });

  it('request timeout is retried', async () => {
    server.injectFaults('cohort', { hang: true, times: 1 });
    const c = client(capturingLogger(), { cohortRequestTimeoutMillis: 200 });
    await c.start();
    expect(server.state.cohorts.size).toBe(3);
    expect(c.evaluateV2({ user_id: 'u2' }, ['f2']).f2.key).toBe('off');
  });

  it('keeps the last good members while the cohort server fails, and recovers', async () => {
    const c = client(capturingLogger(), { cohortPollingIntervalMillis: 100 });
    await c.start();
    server.injectFaults('cohort', { status: 500, times: Infinity });
    server.setCohort({ cohortId: 'c1', memberIds: ['u8'], lastModified: 300 });
    const failing = server.requests('cohort').length;
    await eventually(() => server.requests('cohort').length >= failing + 6, 5000, 'failing refreshes');
    expect(c.evaluateV2({ user_id: 'u1' }, ['f1']).f1.key).toBe('on');
    server.clearFaults('cohort');
    await eventually(() => c.evaluateV2({ user_id: 'u8' }, ['f1']).f1.key === 'on', 5000, 'recovery');
  });

  it('a cohort that failed at start is retried with backoff until it loads', async () => {
    server.injectFaults('cohort', { status: 503, times: Infinity });
    const logger = capturingLogger();
    const missingRetry = { minMillis: 20, maxMillis: 80, scalar: 2, jitter: 0 };
    const c = client(logger, { cohortMissingRetryBackoff: missingRetry });
    await c.start();
    expect(c.evaluateV2({ user_id: 'u1' }, ['f1']).f1.key).toBe('off');
    expect(logger.count('error', /has cohort ids .*unavailable/)).toBeGreaterThan(0);
    // Each round tries each missing cohort 3 times; rounds are spaced by the missing-cohort backoff (20, 40, 80 ms).
    const c1 = () => server.requests('cohort').filter((r) => r.path.endsWith('/c1'));
    await eventually(() => c1().length >= 12, 10_000, 'four rounds');
    const roundStarts = [0, 3, 6, 9].map((i) => c1()[i].time);
    for (let k = 0; k < 3; k++) {
      expect(roundStarts[k + 1] - roundStarts[k]).toBeGreaterThanOrEqual(baseDelay(missingRetry, k) - 1);
    }
    server.clearFaults('cohort');
    await eventually(() => c.evaluateV2({ user_id: 'u1' }, ['f1']).f1.key === 'on', 5000, 'late cohort');
  });

  it('a cohort first referenced by a later flag update, failing at first, is retried until it loads', async () => {
    const c = client(capturingLogger());
    await c.start();
    server.setCohort({ cohortId: 'c9', memberIds: ['u9'] });
    server.injectFaults('cohort', { status: 503, times: 3 });
    server.setFlags([...flags, cohortFlag('f9', 'c9')]);
    await eventually(() => c.flagKeys().includes('f9'), 5000, 'new flags');
    expect(c.evaluateV2({ user_id: 'u9' }, ['f9']).f9.key).toBe('off');
    await eventually(() => c.evaluateV2({ user_id: 'u9' }, ['f9']).f9.key === 'on', 5000, 'late cohort loaded');
  });

  it('drops cohorts no flag references any more', async () => {
    const c = client();
    await c.start();
    const store = (c as unknown as { cohortStore: CohortStore }).cohortStore;
    expect(store.ids().sort()).toEqual(['c1', 'c2', 'g1']);
    server.setFlags([notInCohortFlag('f2', 'c2')]);
    await eventually(() => store.ids().length === 1, 5000, 'unused cohorts removed');
    expect(store.ids()).toEqual(['c2']);
  });

  it('without cohortSyncConfig: logs once, cohort_ids become [] as in the official SDK', async () => {
    const logger = capturingLogger();
    const c = localClient({ serverUrl: server.url, logger });
    await c.start();
    expect(server.requests('cohort')).toHaveLength(0);
    expect(c.evaluateV2({ user_id: 'u1', cohort_ids: ['c1'] }, ['f1']).f1.key).toBe('off');
    c.evaluateV2({ user_id: 'u1' });
    expect(logger.count('error', 'no cohort download configured')).toBe(1);
  });

  it('a user with a field that cannot be read (a throwing getter) is evaluated as if it had no properties, as without cohorts, logged once', async () => {
    const logger = capturingLogger();
    const c = client(logger);
    await c.start();
    const throwing = (what: string) => () => {
      throw new Error(`${what} getter bug`);
    };
    const noUserId = Object.defineProperty({ groups: { org: ['acme'] } }, 'user_id', { get: throwing('id'), enumerable: true });
    const noGroups = Object.defineProperty({ user_id: 'u1' }, 'groups', { get: throwing('groups'), enumerable: true });
    const noDevice = Object.defineProperty({ user_id: 'u1' }, 'device_id', { get: throwing('device'), enumerable: true });
    // (the same user in cohorts, readable, gets f1 'on'; the rule is the engine's, whether or not a flag uses cohorts)
    expect(c.evaluateV2({ user_id: 'u1', groups: { org: ['acme'] } }, ['f1']).f1.key).toBe('on');
    const none = c.evaluateV2({});
    for (let i = 0; i < 3; i++) {
      for (const user of [noUserId, noGroups, noDevice]) {
        expect(c.evaluateV2(user)).toEqual(none);
        expect(c.evaluateV2Details(user, ['f1']).f1.variant).toEqual(none.f1);
      }
    }
    for (const what of ['id', 'groups', 'device']) {
      const message = new RegExp(
        `user object cannot be read \\(${what} getter bug\\); it is evaluated as if it had no properties`,
      );
      expect(logger.count('error', message)).toBe(1);
    }
  });

  it('bootstrap flags with cohorts evaluate as non-member until start() has loaded the cohorts', async () => {
    const c = client(capturingLogger(), {}, { bootstrap: [cohortFlag('f1', 'c1')] });
    expect(c.evaluateV2({ user_id: 'u1' }, ['f1']).f1.key).toBe('off');
    await c.start();
    expect(c.evaluateV2({ user_id: 'u1' }, ['f1']).f1.key).toBe('on');
  });
});
