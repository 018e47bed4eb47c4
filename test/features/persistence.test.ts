import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { LocalEvaluationClient } from '../../src/local/client';
import { FlagPersistence, PERSISTENCE_FORMAT } from '../../src/local/persistence';
import { createLogger } from '../../src/util/logger';
import { capturingLogger, deadUrl, eventually, track, useLocalServer, useTempDir } from '../support';

const flags = (value: string): unknown[] => [{ key: 'f', segments: [{ variant: 'v' }], variants: { v: { key: 'v', value } } }];

const server = useLocalServer(() => ({ flags: flags('from-server') as never }), 'all');
const tmp = useTempDir('lkg');

function client(file: string, serverUrl: string, extra: object = {}): LocalEvaluationClient {
  const c = new LocalEvaluationClient('server-key', {
    serverUrl,
    persistence: { path: file, startFallbackMillis: 300 },
    startTimeoutMillis: 5000,
    ...extra,
  });
  return track(c);
}

describe('persistence (last-known-good)', () => {
  it('writes each accepted payload atomically and starts from it when the server is unreachable', async () => {
    const file = path.join(tmp.path, 'nested', 'flags-1.json');
    const first = client(file, server.url);
    await first.start();
    await first.close();
    const saved = JSON.parse(fs.readFileSync(file, 'utf8'));
    expect(saved.format).toBe(PERSISTENCE_FORMAT);
    expect(saved.flags).toEqual(flags('from-server'));
    expect(Number.isNaN(Date.parse(saved.savedAt))).toBe(false);
    expect(fs.readdirSync(path.dirname(file)).filter((n) => n.endsWith('.tmp'))).toEqual([]);

    const logger = capturingLogger();
    const second = client(file, await deadUrl(), { logger });
    await second.start();
    expect(second.evaluateV2({}).f.value).toBe('from-server');
    expect(logger.count('warn', 'serving the last-known-good flags')).toBe(1);
  });

  it('falls back when the server does not answer in time, then takes fresh flags once it does', async () => {
    const file = path.join(tmp.path, 'flags-2.json');
    fs.writeFileSync(file, JSON.stringify({ format: PERSISTENCE_FORMAT, savedAt: 'x', cohorts: [], flags: flags('saved') }));
    server.injectFaults('flags', { delayMs: 700 }); // the first request only, well past startFallbackMillis (300)
    const c = client(file, server.url);
    await c.start();
    expect(c.evaluateV2({}).f.value).toBe('saved');
    await eventually(() => c.evaluateV2({}).f.value === 'from-server', 10_000, 'fresh flags');
  });

  it('still rejects when there is no persisted file, and on a rejected key', async () => {
    const missing = client(path.join(tmp.path, 'none.json'), await deadUrl(), { startTimeoutMillis: 800 });
    await expect(missing.start()).rejects.toThrow();

    const file = path.join(tmp.path, 'flags-3.json');
    fs.writeFileSync(file, JSON.stringify({ format: PERSISTENCE_FORMAT, savedAt: 'x', cohorts: [], flags: flags('saved') }));
    server.injectFaults('flags', { status: 401 });
    const unauthorized = client(file, server.url);
    await expect(unauthorized.start()).rejects.toThrow(/401/);
  });

  it('two writers on one path at once: the file is one of the two payloads, intact, and no temp file is left', async () => {
    const file = path.join(tmp.path, 'shared', 'flags-4.json');
    // Large, different-length payloads so that concurrent writes to one shared temp file would interleave.
    const payload = (value: string, n: number): string => JSON.stringify(Array.from({ length: n }, () => flags(value)[0]));
    for (let round = 0; round < 5; round++) {
      const logger = capturingLogger();
      const a = new FlagPersistence(file, createLogger({ logger }));
      const b = new FlagPersistence(file, createLogger({ logger }));
      const pa = payload(`a${round}`, 20_000);
      const pb = payload(`b${round}`, 15_000);
      a.save(pa);
      b.save(pb);
      await Promise.all([a.flush(), b.flush()]);
      expect(logger.lines.filter((l) => l.level === 'error')).toEqual([]);
      const saved = JSON.parse(fs.readFileSync(file, 'utf8'));
      expect([pa, pb]).toContain(JSON.stringify(saved.flags));
      expect(fs.readdirSync(path.dirname(file)).filter((n) => n.endsWith('.tmp'))).toEqual([]);
    }
  });
});
