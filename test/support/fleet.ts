/**
 * Fleet-mode members: a RedisFleetSource wired to a TestHolder, so many
 * "processes" can share one Redis inside one test. stopMembers() stops every
 * member made (call it after each test), or the ones given.
 */
import { createCohortStore } from '../../src/engine/cohort-store';
import { resolveLocalConfig, type LocalEvaluationConfig } from '../../src/config/local';
import type { LocalClientInternals } from '../../src/local/internals';
import { RedisFleetSource } from '../../src/redis/fleet-source';
import { HttpClient } from '../../src/util/http';
import { createLogger } from '../../src/util/logger';
import { TestHolder } from './holder';
import { capturingLogger, type CapturingLogger } from './logger';

export interface FleetMember {
  source: RedisFleetSource;
  holder: TestHolder;
  log: CapturingLogger;
  http: HttpClient;
  start(timeoutMillis?: number): Promise<void>;
  stop(): Promise<void>;
}

const members: FleetMember[] = [];

/** One process-to-be of a fleet: its own source, holder, cohort store and HTTP client. */
export function fleetMember(apiKey: string, config: LocalEvaluationConfig, internals: LocalClientInternals = {}): FleetMember {
  const log = capturingLogger();
  const resolved = resolveLocalConfig({ ...config, logger: log });
  const logger = createLogger({ logger: log });
  const http = new HttpClient();
  const store = createCohortStore();
  const source = new RedisFleetSource({ apiKey, config: resolved, internals, http, logger, cohortStore: () => store });
  const holder = new TestHolder(store, source);
  let startedRefresh = false;
  const m: FleetMember = {
    source,
    holder,
    log,
    http,
    async start(timeoutMillis = 10_000) {
      await source.start(holder, Date.now() + timeoutMillis);
      if (!startedRefresh) {
        startedRefresh = true;
        source.startRefresh(
          () => holder.referenced(),
          () => undefined,
        );
      }
    },
    async stop() {
      source.stop();
      await http.close().catch(() => undefined);
    },
  };
  members.push(m);
  return m;
}

/** Stop `which` (by default every member made) and forget them. */
export async function stopMembers(which: FleetMember[] = members): Promise<void> {
  const stopping = which === members ? members.splice(0) : which.filter((m) => members.includes(m));
  for (const m of stopping) members.splice(members.indexOf(m), 1);
  await Promise.all(stopping.map((m) => m.stop()));
}
