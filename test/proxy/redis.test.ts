/**
 * redisConfig mode 'evaluation-proxy' against real redis-server processes:
 * the layout written as the evaluation-proxy writes it, read by this SDK's
 * source and cohort loader, with the same answers as the same flags and
 * cohorts over HTTP; and its faults.
 */
import { Cluster, Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createCohortStore, type CohortStore } from '../../src/engine/cohort-store';
import { createLocalServer } from '../../src/dev-server';
import { EvaluationProxyLayoutError } from '../../src/proxy/redis-layout';
import { evaluationProxyRedisPlan } from '../../src/proxy/redis-plan';
import type { EvaluationProxyRedisCohorts, EvaluationProxyRedisSource } from '../../src/proxy/redis-source';
import { resolveRedisConfig, type RedisConfig } from '../../src/redis/config';
import type { EvaluationFlag, ExperimentUser } from '../../src/types';
import { createLogger, LogLevel } from '../../src/util/logger';
import { redisAvailable, startRedis, startRedisCluster, stopAllRedis } from '../support/redis';
import {
  API_KEY,
  capturingLogger,
  closeClients,
  cohortFlag,
  eventually,
  flag,
  guardUnhandledRejections,
  localClient,
  notInCohortFlag,
} from '../support';
import { TestHolder } from '../support/holder';
import { redisClient, useRedis } from '../support/redis-admin';
import { type LayoutCohort, ProxyLayoutWriter } from './layout-writer';

guardUnhandledRejections();

const PROJECT = '100123';
const cohortKeys = { apiKey: 'cohort-api', secretKey: 'cohort-secret' };

const flags: EvaluationFlag[] = [
  cohortFlag('in-c1', 'c1', { groupType: 'org', cohortId: 'g1' }),
  notInCohortFlag('not-in-c2', 'c2'),
  cohortFlag('in-empty', 'c0'),
  flag('plain'),
  flag('plain-off', 'off'),
];
const cohorts: LayoutCohort[] = [
  { cohortId: 'c1', lastModified: 1_700_000_000_001, memberIds: ['u1', 'u2', 'ü-ñ', '😀', 'a"b'] },
  { cohortId: 'c2', lastModified: 1_700_000_000_002, memberIds: ['u2', 'u3'] },
  { cohortId: 'c0', lastModified: 1_700_000_000_003, memberIds: [] },
  { cohortId: 'g1', groupType: 'org', lastModified: 1_700_000_000_004, memberIds: ['acme'] },
];
const users: ExperimentUser[] = [
  {},
  { user_id: 'u1' },
  { user_id: 'u2' },
  { user_id: 'u3', device_id: 'd' },
  { user_id: 'ü-ñ' },
  { user_id: '😀' },
  { user_id: 'a"b' },
  { user_id: 'nobody' },
  { user_id: 'u9', groups: { org: ['acme'] } },
  { user_id: 'u9', groups: { org: ['other', 'acme'] } },
];

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  await closeClients();
  for (const c of cleanups.splice(0).reverse()) await c();
});
afterAll(() => stopAllRedis());

interface Running {
  source: EvaluationProxyRedisSource;
  cohorts: EvaluationProxyRedisCohorts;
  holder: TestHolder;
  store: CohortStore;
  logger: ReturnType<typeof capturingLogger>;
  start(deadlineMillis?: number): Promise<void>;
}

/** The source and loader on `redis`, feeding a TestHolder; stopped after the test. */
function reader(redis: Partial<RedisConfig>, options: { intervalMillis?: number; wrap?: (c: unknown) => unknown } = {}): Running {
  const logger = capturingLogger();
  const log = createLogger({ logger, logLevel: LogLevel.Debug });
  const store = createCohortStore();
  const plan = evaluationProxyRedisPlan({
    redisConfig: resolveRedisConfig({ mode: 'evaluation-proxy', connectTimeoutMillis: 500, ...redis }, () => undefined),
    deploymentKey: API_KEY,
    pollingIntervalMillis: options.intervalMillis ?? 60_000,
    logger: log,
    store,
  });
  if (options.wrap) {
    const layout = (plan.source as unknown as { reader: { layout: { redis: unknown } } }).reader.layout;
    layout.redis = options.wrap(layout.redis);
  }
  const holder = new TestHolder(store, plan.cohorts);
  cleanups.push(() => {
    plan.source.stop();
    plan.cohorts.stop();
  });
  return {
    ...plan,
    holder,
    store,
    logger,
    async start(deadlineMillis = 5_000) {
      await plan.source.start(holder, Date.now() + deadlineMillis);
      plan.cohorts.startRefresh(
        () => holder.referenced(),
        () => undefined,
      );
    },
  };
}

function writerFor(client: Redis | Cluster): ProxyLayoutWriter {
  return new ProxyLayoutWriter(client, PROJECT, API_KEY);
}

async function writeAll(w: ProxyLayoutWriter): Promise<void> {
  await w.writeProject();
  await w.writeFlags(flags);
  for (const c of cohorts) await w.publishCohort(c, { blob: c.cohortId !== 'c2' }); // c2: member set only
}

/** Answers of the same flags and cohorts over HTTP (the local server as Amplitude, cohorts downloaded). */
async function httpAnswers(): Promise<Record<string, string | undefined>[]> {
  const server = await createLocalServer({
    flags,
    apiKeys: [API_KEY],
    cohorts: cohorts.map((c) => ({ ...c, memberIds: c.memberIds })),
  });
  cleanups.push(() => server.close());
  const client = localClient({
    serverUrl: server.url,
    cohortSyncConfig: { ...cohortKeys, cohortServerUrl: server.url },
    logLevel: LogLevel.Disable,
  });
  await client.start();
  return users.map((u) => keysOf(client.evaluateV2(u)));
}

async function hgetallCalls(admin: Redis): Promise<number> {
  return Number((await admin.info('commandstats')).match(/cmdstat_hgetall:calls=(\d+)/)?.[1] ?? 0);
}

/** Poll an async condition (no fixed sleeps). */
async function until(check: () => Promise<boolean>, what: string, timeoutMillis = 10_000): Promise<void> {
  const end = Date.now() + timeoutMillis;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

function keysOf(v: Record<string, { key?: string }>): Record<string, string | undefined> {
  const out: Record<string, string | undefined> = {};
  for (const k of Object.keys(v).sort()) out[k] = v[k].key;
  return out;
}

describe.skipIf(!redisAvailable())('redisConfig evaluation-proxy (standalone Redis)', () => {
  const redis = useRedis({ password: 'pw' });
  // A read-only user: any write from the SDK would fail with NOPERM and show in ACL LOG.
  beforeAll(() =>
    redis.server.cli('ACL', 'SETUSER', 'reader', 'on', '>readerpw', '~*', '&*', '+@read', '+@connection', '+info', '-@write'),
  );
  afterEach(() => redis.admin.acl('LOG', 'RESET'));
  const readerUrl = () => `redis://reader:readerpw@127.0.0.1:${redis.server.port}`;

  it('reads the layout the proxy writes: same answers as the same flags over HTTP, and never writes', async () => {
    await writeAll(writerFor(redis.admin));
    const expected = await httpAnswers();
    const run = reader({ url: readerUrl() });
    await run.start();
    expect(run.holder.keys()).toEqual(flags.map((f) => f.key).sort());
    expect(run.store.ids().sort()).toEqual(['c0', 'c1', 'c2', 'g1']);
    expect(users.map((u) => keysOf(run.holder.evaluate(u)))).toEqual(expected);
    expect(expected[1]['in-c1']).toBe('on'); // the comparison is not vacuous
    expect(expected[2]['not-in-c2']).toBe('off');
    expect(await redis.admin.acl('LOG')).toEqual([]);
    expect(run.holder.errors).toEqual([]);
    expect(run.logger.lines.filter((l) => l.level === 'error' || l.level === 'warn')).toEqual([]);
  });

  it('a custom prefix', async () => {
    const w = new ProxyLayoutWriter(redis.admin, PROJECT, API_KEY, 'acme-proxy');
    await w.writeProject();
    await w.writeFlags([flag('only')]);
    const run = reader({ url: readerUrl(), prefix: 'acme-proxy' });
    await run.start();
    expect(run.holder.keys()).toEqual(['only']);
  });

  describe('one clear error at start when the layout is not there', () => {
    it('nothing under the prefix', async () => {
      const run = reader({ url: readerUrl() });
      const deadline = 30_000;
      const started = Date.now();
      const err = await run.start(deadline).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(EvaluationProxyLayoutError);
      expect((err as EvaluationProxyLayoutError).permanent).toBe(true);
      expect((err as Error).message).toMatch(/the set amplitude:v4:projects is empty or missing .*prefix "amplitude"/);
      expect(Date.now() - started).toBeLessThan(deadline); // at once, not at the deadline
      expect(run.logger.count('error', 'amplitude:v4:projects is empty')).toBe(1);
    });

    it('no project lists the deployment key', async () => {
      await new ProxyLayoutWriter(redis.admin, '7', 'server-other-key').writeProject();
      const err = await reader({ url: readerUrl() })
        .start()
        .catch((e: unknown) => e);
      expect((err as Error).message).toMatch(
        /no evaluation-proxy project knows deployment key server…: .*projects 7 .*amplitude:v4:projects:<projectId>:deployments/,
      );
      expect((err as Error).message).not.toContain(API_KEY);
    });

    it('no flags hash for the deployment', async () => {
      await writerFor(redis.admin).writeProject();
      const err = await reader({ url: readerUrl() })
        .start()
        .catch((e: unknown) => e);
      expect((err as Error).message).toMatch(
        /no flags hash amplitude:v4:projects:100123:deployments:<deploymentKey>:flags .*project 100123/,
      );
    });

    it('a cohort description without its blob or set: start resolves, the cohort is named once, loaded when published', async () => {
      const w = writerFor(redis.admin);
      await writeAll(w);
      await redis.admin.hset(w.cohortsKey, 'c9', JSON.stringify({ cohortId: 'c9', groupType: 'User', size: 3, lastModified: 5 }));
      await w.writeFlags([...flags, cohortFlag('in-c9', 'c9')]);
      const run = reader({ url: readerUrl() }, { intervalMillis: 30 });
      await run.start();
      expect(run.holder.evaluate({ user_id: 'x' }, ['in-c9'])['in-c9'].key).toBe('off');
      const gone =
        /cohort c9: its description names version 5 but neither amplitude:v4:\{projects:100123:cohort:c9\}:blob:5 nor amplitude:v4:\{projects:100123:cohort:c9\}:User:5 exists/;
      await eventually(() => run.holder.submissions.length >= 1 && run.logger.count('error', gone) === 1);
      await w.publishCohort({ cohortId: 'c9', lastModified: 6, memberIds: ['x'] });
      await eventually(() => run.holder.evaluate({ user_id: 'x' }, ['in-c9'])['in-c9'].key === 'on', 5_000, 'c9 loaded');
      expect(run.logger.count('error', gone)).toBe(1);
    });
  });

  it('refreshes: installs only what changed (flags compared; cohorts by lastModified)', async () => {
    const w = writerFor(redis.admin);
    await writeAll(w);
    const run = reader({ url: readerUrl() }, { intervalMillis: 30 });
    const loads: string[] = [];
    const load = run.store.load.bind(run.store);
    run.store.load = (body, id) => {
      loads.push(id);
      return load(body, id);
    };
    await run.start();
    expect([...loads].sort()).toEqual(['c0', 'c1', 'c2', 'g1']);
    // Several refreshes (each reads the flags hash and the descriptions hash) with nothing changed.
    const base = await hgetallCalls(redis.admin);
    await until(async () => (await hgetallCalls(redis.admin)) >= base + 6, 'six refresh reads');
    expect(run.holder.submissions).toHaveLength(1);
    expect(loads).toHaveLength(4);
    // A flag changes: one submission.
    await w.writeFlags([...flags.slice(0, 4), flag('plain-off', 'on')]);
    await eventually(() => run.holder.evaluate({}, ['plain-off'])['plain-off']?.key === 'on', 5_000, 'flag change');
    expect(run.holder.submissions).toHaveLength(2);
    // A cohort publishes a new version: only it is loaded.
    await w.publishCohort({ cohortId: 'c1', lastModified: 1_700_000_000_100, memberIds: ['u7'] });
    await eventually(() => run.holder.evaluate({ user_id: 'u7' }, ['in-c1'])['in-c1'].key === 'on', 5_000, 'cohort change');
    expect(loads.slice(4)).toEqual(['c1']);
    expect(run.holder.evaluate({ user_id: 'u1' }, ['in-c1'])['in-c1'].key).toBe('off');
    expect(run.holder.submissions).toHaveLength(2);
  });

  describe('faults', () => {
    it('a corrupt JSON field in the flags hash: that flag left out and logged once, the rest served', async () => {
      const w = writerFor(redis.admin);
      await writeAll(w);
      await w.writeFlagField('broken', '{"key":"broken","variants":');
      await w.writeFlagField('not-an-object', '[1,2]');
      const run = reader({ url: readerUrl() }, { intervalMillis: 20 });
      await run.start();
      expect(run.holder.keys()).toEqual(flags.map((f) => f.key).sort());
      expect(run.holder.evaluate({}, ['plain']).plain.key).toBe('on');
      // Later refreshes do not log it again; a real change still installs.
      const base = await hgetallCalls(redis.admin);
      await until(async () => (await hgetallCalls(redis.admin)) >= base + 4, 'refreshes');
      await w.writeFlags([flag('plain', 'off')]);
      await eventually(() => run.holder.evaluate({}, ['plain']).plain?.key === 'off', 5_000, 'flag change');
      expect(
        run.logger.count('error', /flag "broken" left out: its field in the evaluation-proxy flags hash is not a JSON object/),
      ).toBe(1);
      expect(run.logger.count('error', /flag "not-an-object" left out/)).toBe(1);
    });

    it('a cohort whose blob expired between reading the description and the blob: the newer version is loaded', async () => {
      const w = writerFor(redis.admin);
      await writeAll(w);
      let raced = false;
      // The proxy publishes c1 version 200 and expires version 1_700_000_000_001 just as the reader asks for the old blob.
      const wrap = (client: unknown) =>
        new Proxy(client as object, {
          get(target, prop, receiver) {
            const value = Reflect.get(target, prop, receiver);
            if (prop !== 'strlen' || typeof value !== 'function') return typeof value === 'function' ? value.bind(target) : value;
            return async (key: string) => {
              if (!raced && key === w.blobKey('c1', 1_700_000_000_001)) {
                raced = true;
                await w.publishCohort({ cohortId: 'c1', lastModified: 200, memberIds: ['late'] });
                await redis.admin.del(key, w.membersKey('c1', 'User', 1_700_000_000_001));
              }
              return (value as (k: string) => Promise<Buffer | null>).call(target, key);
            };
          },
        });
      const run = reader({ url: readerUrl() }, { wrap });
      await run.start();
      expect(raced).toBe(true);
      expect(run.store.info('c1')?.lastModified).toBe(200);
      expect(run.holder.evaluate({ user_id: 'late' }, ['in-c1'])['in-c1'].key).toBe('on');
      expect(run.holder.evaluate({ user_id: 'u1' }, ['in-c1'])['in-c1'].key).toBe('off');
      expect(run.logger.lines.filter((l) => l.level === 'error' && /c1/.test(l.message))).toEqual([]);
    });

    it('Redis unreachable at start: start rejects by its deadline with the reason, one warning; flags arrive when Redis is back', async () => {
      const down = await startRedis();
      const port = down.port;
      await down.stop();
      const run = reader({ url: `redis://127.0.0.1:${port}` }, { intervalMillis: 30 });
      const started = Date.now();
      const err = await run.start(400).catch((e: unknown) => e);
      expect(Date.now() - started).toBeLessThan(5_000);
      expect((err as Error).message).toMatch(/Redis not ready within the start deadline \(.*ECONNREFUSED/);
      expect((err as { permanent?: boolean }).permanent).toBeUndefined();
      expect(run.logger.count('warn', /Redis connection error .*ECONNREFUSED.*reconnecting with backoff/)).toBe(1);
      await down.restart();
      const back = await redisClient(down.url);
      await writeAll(writerFor(back));
      // The writer's HSETs are not atomic: a refresh may see part of them; the next ones complete it.
      await eventually(
        () => run.holder.evaluate({ user_id: 'u1' }, ['in-c1'])['in-c1']?.key === 'on',
        30_000,
        'flags and cohorts after Redis came back',
      );
      await down.stop();
    });

    it('Redis lost later: the last flags and cohorts keep serving; errors reported; changes picked up once it is back', async () => {
      const own = await startRedis();
      const client = await redisClient(own.url);
      await writeAll(writerFor(client));
      const run = reader({ url: own.url, commandTimeoutMillis: 200 }, { intervalMillis: 20 });
      await run.start();
      await own.kill();
      await eventually(() => run.holder.errors.length >= 2, 10_000, 'refresh errors');
      expect(run.holder.errors[0].from).toBe('evaluation-proxy');
      expect(run.holder.evaluate({ user_id: 'u1' }, ['in-c1'])['in-c1'].key).toBe('on');
      expect(run.holder.keys()).toEqual(flags.map((f) => f.key).sort());
      await own.restart();
      const again = await redisClient(own.url);
      const w = writerFor(again);
      await writeAll(w);
      await w.writeFlags([flag('plain', 'off')]);
      await eventually(() => run.holder.evaluate({}, ['plain']).plain?.key === 'off', 30_000, 'change after reconnect');
      await eventually(
        () => run.holder.evaluate({ user_id: 'u1' }, ['in-c1'])['in-c1']?.key === 'on',
        30_000,
        'cohort after reconnect',
      );
      await own.stop();
    });
  });
});

describe.skipIf(!redisAvailable())('redisConfig evaluation-proxy (3-node Redis Cluster)', () => {
  it('reads the layout from a cluster with the same answers as over HTTP', async () => {
    const cluster = await startRedisCluster({ password: 'pw' });
    cleanups.push(() => cluster.stop());
    const writer = new Cluster(cluster.startNodes, { redisOptions: { password: 'pw' } });
    writer.on('error', () => undefined);
    cleanups.push(() => writer.disconnect());
    await writeAll(writerFor(writer));
    const expected = await httpAnswers();
    const run = reader({ cluster: { nodes: cluster.startNodes }, password: 'pw' });
    await run.start(15_000);
    expect(run.store.ids().sort()).toEqual(['c0', 'c1', 'c2', 'g1']);
    expect(users.map((u) => keysOf(run.holder.evaluate(u)))).toEqual(expected);
    expect(run.holder.errors).toEqual([]);
  });
});
