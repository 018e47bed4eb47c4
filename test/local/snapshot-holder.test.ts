/** The one place payloads become snapshots: order, supersession, bad payloads, repeats, cohorts first. */
import { describe, expect, it } from 'vitest';
import { type Engine, loadEngine } from '../../src/engine';
import { type HolderObserver, SnapshotHolder } from '../../src/local/sources/snapshot-holder';
import type { CohortLoader } from '../../src/local/sources/types';
import { createLogger, type Logger } from '../../src/util/logger';
import { capturingLogger, cohortFlag, eventually, flag } from '../support';

const quiet = (): Logger => createLogger({ logger: capturingLogger() });

const real = loadEngine();

interface Deferred<T> {
  promise: Promise<T>;
  resolve: (v: T) => void;
}
function deferred<T>(): Deferred<T> {
  let resolve!: (v: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

/** The real engine, whose async parses finish when the test says so. */
function gatedEngine(): { engine: Engine; release: (i: number) => void; parsed: () => number } {
  const gates: Array<Deferred<void>> = [];
  let parsed = 0;
  const engine: Engine = {
    kind: real.kind,
    load: (p) => real.load(p),
    loadAsync: async (p) => {
      const gate = deferred<void>();
      gates.push(gate);
      await gate.promise;
      const snapshot = real.load(p);
      parsed++;
      return snapshot;
    },
  };
  return { engine, release: (i) => gates[i].resolve(), parsed: () => parsed };
}

function observer(): HolderObserver & { installs: string[]; refreshes: string[]; failures: string[] } {
  const installs: string[] = [];
  const refreshes: string[] = [];
  const failures: string[] = [];
  return {
    installs,
    refreshes,
    failures,
    installed: (next) => void installs.push(`${next.from}:${next.snapshot.keys().join(',')}`),
    refreshed: (from) => void refreshes.push(from),
    failed: (from) => void failures.push(from),
  };
}

const payload = (...keys: string[]): string => JSON.stringify(keys.map((k) => flag(k)));

describe('SnapshotHolder', () => {
  it('installs in submission order even when a later parse finishes first', async () => {
    const { engine, release, parsed } = gatedEngine();
    const obs = observer();
    const holder = new SnapshotHolder({ engine, logger: quiet(), observer: obs });
    const first = holder.submit(payload('a'), 'poll');
    const second = holder.submit(payload('a', 'b'), 'stream');
    release(1);
    await eventually(() => parsed() === 1, 5000, 'second parse');
    await new Promise((r) => setImmediate(r));
    expect(obs.installs).toEqual([]); // parsed, but it waits for the first
    release(0);
    expect(await first).toBe(true);
    expect(await second).toBe(true);
    expect(obs.installs).toEqual(['poll:a', 'stream:a,b']);
    expect(holder.current?.snapshot.keys()).toEqual(['a', 'b']);
  });

  it('install() wins over a submission still parsing (dropped when its turn comes)', async () => {
    const { engine, release } = gatedEngine();
    const obs = observer();
    const holder = new SnapshotHolder({ engine, logger: quiet(), observer: obs });
    const pending = holder.submit(payload('old'), 'poll');
    expect(holder.install(payload('pushed'), 'data-source')).toBe(true);
    release(0);
    expect(await pending).toBe(true);
    expect(obs.installs).toEqual(['data-source:pushed']);
    expect(holder.installedFrom).toBe('data-source');
  });

  it('keeps the last good flags on an unusable payload and reports it', async () => {
    const obs = observer();
    const logger = capturingLogger();
    const holder = new SnapshotHolder({ engine: real, logger: createLogger({ logger }), observer: obs });
    expect(await holder.submit(payload('a'), 'poll')).toBe(true);
    expect(await holder.submit('{"not":"an array"}', 'poll')).toBe(false);
    expect(holder.install('not json', 'cache')).toBe(false);
    expect(holder.current?.snapshot.keys()).toEqual(['a']);
    expect(obs.failures).toEqual(['poll', 'cache']);
    expect(logger.count('error', 'not applied')).toBe(2);
  });

  it('does not parse or install a payload identical to the last one; counts it as a refresh', async () => {
    let parses = 0;
    const engine: Engine = { kind: real.kind, load: (p) => (parses++, real.load(p)) };
    const obs = observer();
    const holder = new SnapshotHolder({ engine, logger: quiet(), observer: obs });
    await holder.submit(payload('a'), 'poll');
    await holder.submit(Buffer.from(payload('a')), 'poll'); // bytes after a string: parsed (compared within a kind only)
    await holder.submit(Buffer.from(payload('a')), 'stream');
    expect(parses).toBe(2);
    expect(obs.installs).toEqual(['poll:a', 'poll:a']);
    expect(obs.refreshes).toEqual(['poll', 'poll', 'stream']);
  });

  it('swaps only after the cohorts the flags reference were loaded', async () => {
    const gate = deferred<void>();
    const asked: string[][] = [];
    const installedWith: string[][] = [];
    const loader: CohortLoader = {
      loadMissing: async (ids) => {
        asked.push([...ids]);
        await gate.promise;
      },
      installed: (ids) => void installedWith.push([...ids]),
      startRefresh: () => undefined,
      stop: () => undefined,
    };
    const obs = observer();
    const holder = new SnapshotHolder({ engine: real, logger: quiet(), observer: obs });
    holder.useCohorts(loader, undefined);
    const done = holder.submit(JSON.stringify([cohortFlag('gated', 'c1')]), 'poll');
    await eventually(() => asked.length > 0, 5000, 'cohort request'); // after the parse (off the main thread)
    expect(asked).toEqual([['c1']]);
    expect(holder.hasFlags).toBe(false);
    gate.resolve();
    expect(await done).toBe(true);
    expect(holder.current?.snapshot.keys()).toEqual(['gated']);
    expect(installedWith).toEqual([['c1']]);
  });

  it('after close() submissions are refused and in-flight ones dropped; open() accepts them again', async () => {
    const { engine, release } = gatedEngine();
    const obs = observer();
    const holder = new SnapshotHolder({ engine, logger: quiet(), observer: obs });
    const inFlight = holder.submit(payload('a'), 'poll');
    holder.close();
    release(0);
    await inFlight;
    expect(await holder.submit(payload('b'), 'poll')).toBe(false);
    expect(holder.hasFlags).toBe(false);
    holder.open();
    const again = holder.submit(payload('c'), 'poll');
    release(1);
    expect(await again).toBe(true);
    expect(obs.installs).toEqual(['poll:c']);
  });
});
