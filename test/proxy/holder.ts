/**
 * A minimal FlagSink for driving a FlagSource and CohortLoader without a
 * client: parses with the engine, loads the referenced cohorts through the
 * loader, installs in submission order, and evaluates as the client does.
 */
import { loadEngine, type FlagSnapshot } from '../../src/engine';
import type { CohortStore } from '../../src/engine/cohort-store';
import { buildCohortIndex, type CohortIndex } from '../../src/local/cohort-utils';
import { enrichUser } from '../../src/local/cohorts';
import type { CohortLoader, FlagSink } from '../../src/local/sources/types';
import type { ExperimentUser, Variants } from '../../src/types';

export class TestHolder implements FlagSink {
  snapshot: FlagSnapshot | undefined;
  index: CohortIndex | undefined;
  readonly submissions: string[] = [];
  readonly errors: Array<{ from: string; error: unknown }> = [];
  refreshes = 0;
  installedFrom: string | undefined;
  private chain: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly store: CohortStore,
    private readonly cohorts?: CohortLoader,
  ) {}

  get hasFlags(): boolean {
    return this.snapshot !== undefined;
  }

  submit(payload: string | Uint8Array, from: string): Promise<boolean> {
    const run = this.chain.then(async () => {
      this.submissions.push(from);
      let next: FlagSnapshot;
      try {
        next = loadEngine().load(payload);
      } catch {
        return false;
      }
      const index = buildCohortIndex(next);
      if (index && this.cohorts) await this.cohorts.loadMissing(index.all);
      this.snapshot = next;
      this.index = index;
      this.installedFrom = from;
      this.cohorts?.installed(index?.all ?? new Set());
      return true;
    });
    this.chain = run.catch(() => undefined);
    return run.catch(() => false);
  }

  install(): boolean {
    throw new Error('not used');
  }

  refreshed(): void {
    this.refreshes++;
  }

  reportError(from: string, error: unknown): void {
    this.errors.push({ from, error });
  }

  /** Flag keys of the installed snapshot. */
  keys(): string[] {
    return this.snapshot?.keys().sort() ?? [];
  }

  evaluate(user: ExperimentUser, flagKeys?: string[]): Variants {
    if (!this.snapshot) return {};
    const u = this.index ? enrichUser(user, this.index, this.store) : user;
    return this.snapshot.evaluate(u, flagKeys);
  }

  referenced(): ReadonlySet<string> {
    return this.index?.all ?? new Set();
  }
}
