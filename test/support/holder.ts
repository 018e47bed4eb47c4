/**
 * A minimal FlagSink for driving a FlagSource and its CohortLoader without a
 * client (fleet and evaluation-proxy sources): parses with the engine, loads
 * the referenced cohorts through the loader, installs in submission order,
 * records what happened, and evaluates as the client does.
 */
import { loadEngine, type FlagSnapshot } from '../../src/engine';
import type { CohortStore } from '../../src/engine/cohort-store';
import { buildCohortIndex, type CohortIndex } from '../../src/local/cohort-utils';
import { enrichUser } from '../../src/local/cohort-utils';
import type { CohortLoader, FlagSink } from '../../src/local/sources/types';
import type { ExperimentUser, Variants } from '../../src/types';

export class TestHolder implements FlagSink {
  snapshot: FlagSnapshot | undefined;
  index: CohortIndex | undefined;
  /** The `from` of every submission, usable or not, in order. */
  readonly submissions: string[] = [];
  /** The `from` of every installed submission, in order. */
  readonly installs: string[] = [];
  readonly errors: Array<{ from: string; error: unknown }> = [];
  readonly refreshes: string[] = [];
  private chain: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly store: CohortStore,
    /** Settable after construction: a source is often its own cohort loader and needs the store first. */
    public loader?: CohortLoader,
  ) {}

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
      if (index && this.loader) await this.loader.loadMissing(index.all);
      this.snapshot = next;
      this.index = index;
      this.installs.push(from);
      this.loader?.installed(index?.all ?? new Set());
      return true;
    });
    // As the client's holder: a failed cohort load is reported, the last good flags stay.
    const result = run.catch((error: unknown) => {
      this.reportError(from, error);
      return false;
    });
    this.chain = result;
    return result;
  }

  install(): boolean {
    throw new Error('TestHolder: install() is not used by the sources it drives');
  }

  refreshed(from: string): void {
    this.refreshes.push(from);
  }

  reportError(from: string, error: unknown): void {
    this.errors.push({ from, error });
  }

  get installedFrom(): string | undefined {
    return this.installs.at(-1);
  }

  /** Flag keys of the installed snapshot, sorted. */
  keys(): string[] {
    return this.snapshot?.keys().sort() ?? [];
  }

  /** Cohort ids the installed flags reference. */
  referenced(): ReadonlySet<string> {
    return this.index?.all ?? new Set();
  }

  evaluate(user: ExperimentUser, flagKeys?: string[]): Variants {
    if (!this.snapshot) return {};
    const u = this.index ? enrichUser(user, this.index, this.store) : user;
    return this.snapshot.evaluate(u, flagKeys);
  }
}
