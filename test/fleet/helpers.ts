/**
 * Fleet-mode fixtures: a RedisFleetSource wired to a minimal snapshot holder
 * (the FlagSink contract: parse, load cohorts, install in order), so many
 * "processes" can share one Redis inside one test.
 */
import { createCohortStore, type CohortStore } from '../../src/engine/cohort-store';
import { loadEngine, type FlagSnapshot } from '../../src/engine';
import { resolveLocalConfig, type LocalEvaluationConfig } from '../../src/config/local';
import { buildCohortIndex, type CohortIndex } from '../../src/local/cohort-utils';
import { enrichUser } from '../../src/local/cohorts';
import type { CohortLoader, FlagSink } from '../../src/local/sources/types';
import type { LocalClientInternals } from '../../src/local/internals';
import { RedisFleetSource } from '../../src/redis/fleet-source';
import type { ExperimentUser, Variants } from '../../src/types';
import { HttpClient } from '../../src/util/http';
import { createLogger } from '../../src/util/logger';
import { capturingLogger, type CapturingLogger } from '../local/helpers';

export class TestHolder implements FlagSink {
  snapshot: FlagSnapshot | undefined;
  index: CohortIndex | undefined;
  readonly froms: string[] = [];
  readonly errors: unknown[] = [];
  readonly refreshes: string[] = [];
  private chain: Promise<unknown> = Promise.resolve();
  loader: CohortLoader | undefined;

  constructor(readonly store: CohortStore) {}

  submit(payload: string | Uint8Array, from: string): Promise<boolean> {
    const run = this.chain.then(async () => {
      let next: FlagSnapshot;
      try {
        next = loadEngine().load(payload);
      } catch {
        return false;
      }
      const index = buildCohortIndex(next);
      if (index && this.loader) await this.loader.loadMissing(index.all);
      this.snapshot = next;
      this.index = index;
      this.loader?.installed(index?.all ?? new Set());
      this.froms.push(from);
      return true;
    });
    this.chain = run.catch(() => undefined);
    return run;
  }

  install(): boolean {
    throw new Error('not used by fleet mode');
  }

  reportError(_from: string, error: unknown): void {
    this.errors.push(error);
  }

  refreshed(from: string): void {
    this.refreshes.push(from);
  }

  get installedFrom(): string | undefined {
    return this.froms.at(-1);
  }

  evaluate(user: ExperimentUser): Variants {
    if (!this.snapshot) return {};
    return this.snapshot.evaluate(this.index ? enrichUser(user, this.index, this.store) : user);
  }
}

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
  const holder = new TestHolder(store);
  holder.loader = source;
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
          () => holder.index?.all ?? new Set(),
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

export async function stopMembers(): Promise<void> {
  await Promise.all(members.splice(0).map((m) => m.stop()));
}
