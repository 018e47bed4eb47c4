/**
 * N child processes in fleet mode (LocalEvaluationClient from dist/) against
 * one redis-server and the local Amplitude-compatible server: the fleet
 * makes one process's upstream requests, and a flag change reaches all.
 */
import { type ChildProcess, fork } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createLocalServer, type LocalServer } from '../../src/dev-server';
import { cohortFlag, eventually, flag } from '../support';
import { redisAvailable, startRedis, stopAllRedis, type RedisProcess } from '../support/redis';

const N = 4;
/** The writer's flag polling interval, below the public 1 s minimum through the test-only internals. */
const INTERVAL = 250;

interface Child {
  proc: ChildProcess;
  last: { type: string; role?: string; a?: string; vip?: string } | undefined;
}

describe.skipIf(!redisAvailable())('fleet mode across processes', () => {
  let redis: RedisProcess;
  let server: LocalServer;
  const children: Child[] = [];
  const killAll = (): void => {
    for (const c of children) c.proc.kill('SIGKILL');
  };

  beforeAll(async () => {
    process.on('exit', killAll);
    redis = await startRedis({ password: 'pw' });
  }, 180_000);
  afterEach(async () => {
    killAll();
    children.splice(0);
    await server?.close();
  });
  afterAll(async () => {
    process.off('exit', killAll);
    await stopAllRedis();
  });

  /** `leaseMillis`: 2 s leaves a loaded machine room before a stalled writer hands over; 1 s is the shortest the config takes. */
  function spawnFleet(n: number, prefix: string, leaseMillis = 2000): Child[] {
    const config = {
      serverUrl: server.url,
      cohortSyncConfig: { apiKey: 'a', secretKey: 's', cohortServerUrl: server.url },
      redisConfig: { mode: 'fleet', url: redis.url, prefix, updateCheckMillis: 100, leaseMillis },
    };
    const internals = { flagPolling: { intervalMillis: INTERVAL } };
    return Array.from({ length: n }, () => {
      const proc = fork(join(__dirname, 'fleet-child.cjs'), [JSON.stringify({ apiKey: 'server-mp', config, internals })], {
        stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
        // A plain Node process, as a user's: not this worker's flags (vitest's --conditions development, its require hook).
        execArgv: [],
      });
      const child: Child = { proc, last: undefined };
      proc.on('message', (m) => (child.last = m as Child['last']));
      children.push(child);
      return child;
    });
  }

  it(`${N} processes: one process's upstream requests, one cohort download, every change reaches all`, async () => {
    server = await createLocalServer({
      flags: [flag('a', 'on'), cohortFlag('vip', 'c1')],
      cohorts: [{ cohortId: 'c1', memberIds: ['u1'], lastModified: 100 }],
    });
    const fleet = spawnFleet(N, 'mp1');
    await eventually(() => fleet.every((c) => c.last?.type === 'ready'), 30_000, 'all started');
    expect(fleet.filter((c) => c.last?.role === 'writer').length).toBeLessThanOrEqual(1); // a stalled writer may have handed over
    expect(fleet.every((c) => c.last?.vip === 'on' && c.last?.a === 'on')).toBe(true);
    expect(server.requests('cohort').filter((r) => r.status !== 204)).toHaveLength(1); // one download for the fleet

    // Flag polls: one process polls, so k+1 requests span at least k intervals (minus slack); N pollers would
    // make N requests per interval. A slow machine only makes the span longer.
    server.clearRequests();
    const polls = await server.waitForRequests('flags', 4, 30_000);
    const span = polls[3].time - polls[0].time;
    expect(span).toBeGreaterThanOrEqual(2.5 * INTERVAL);

    server.setFlags([flag('a', 'off', 2), cohortFlag('vip', 'c1')]);
    await eventually(() => fleet.every((c) => c.last?.a === 'off'), 15_000, 'change everywhere');
  }, 90_000);

  it('the writer process is killed: another takes the lease after it expires and publishes', async () => {
    server = await createLocalServer({ flags: [flag('a', 'on')] });
    const fleet = spawnFleet(3, 'mp2', 1000); // a killed writer's lease expires within a second
    await eventually(() => fleet.every((c) => c.last?.type === 'ready'), 30_000, 'all started');
    const writer = fleet.find((c) => c.last?.role === 'writer') as Child;
    writer.proc.kill('SIGKILL'); // no release: the lease has to expire
    server.setFlags([flag('a', 'off', 2)]);
    const rest = fleet.filter((c) => c !== writer);
    await eventually(() => rest.every((c) => c.last?.a === 'off'), 20_000, 'published by a new writer');
    for (const c of rest) c.proc.send('status');
    await eventually(() => rest.every((c) => c.last?.type === 'status'), 5_000, 'status');
    expect(rest.map((c) => c.last?.role).sort()).toEqual(['reader', 'writer']);
  }, 90_000);
});
