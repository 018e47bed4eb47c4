/**
 * `client.cache`: the official SDK's InMemoryFlagConfigCache over the
 * client's snapshot. Reading builds the configs from the flags in force
 * (lazily: nothing is kept unless someone reads); a change through it
 * installs a new snapshot at once, so the next evaluateV2 sees it (until a
 * source brings new flags, as in the official SDK, whose poller replaces the
 * cache on every poll). The constructor's FlagConfigCache (`store`) gets
 * every change: through this cache method by method, and each install from
 * a source as clear() then putAll(), in order.
 */
import type { FlagSnapshot } from '../engine';
import type { FlagConfig } from '../types';
import type { Logger } from '../util/logger';
import { type FlagConfigCache, InMemoryFlagConfigCache } from './compat/cache';
import { CACHE_SOURCE, type Installed, type SnapshotHolder } from './sources/snapshot-holder';
import { errorMessage } from '../util/error-message';
import { flushTimeoutOf, settledWithin } from '../util/flush-timeout';

export class ClientFlagCache extends InMemoryFlagConfigCache {
  /** Configs built from `built.snapshot`, or set through this cache. */
  private built: { snapshot: FlagSnapshot | undefined; configs: Record<string, FlagConfig> } | undefined;
  /** Write-through of source installs to the store, one after the other. */
  private storeChain: Promise<void> = Promise.resolve();

  constructor(
    private readonly holder: SnapshotHolder,
    private readonly storeForInstalls: FlagConfigCache | undefined,
    private readonly logger: Logger,
  ) {
    super(storeForInstalls);
  }

  protected override read(): Record<string, FlagConfig> {
    const snapshot = this.holder.current?.snapshot;
    if (this.built === undefined || this.built.snapshot !== snapshot) {
      this.built = { snapshot, configs: snapshot ? configsOf(snapshot) : {} };
    }
    return this.built.configs;
  }

  protected override write(next: Record<string, FlagConfig>): void {
    if (!this.holder.install(JSON.stringify(Object.values(next)), CACHE_SOURCE)) {
      throw new Error('the flag configs put through client.cache are unusable (see the logged error); the previous flags stay');
    }
    this.built = { snapshot: this.holder.current?.snapshot, configs: next };
  }

  /** A snapshot was installed: give it to the store (except bootstrap, and changes made through this cache). */
  onInstalled(next: Installed): void {
    const store = this.storeForInstalls;
    if (!store || next.from === CACHE_SOURCE || next.from === 'bootstrap') return;
    const configs = configsOf(next.snapshot);
    this.storeChain = this.storeChain
      .then(() => store.clear())
      .then(() => store.putAll(configs))
      .catch((err: unknown) => {
        this.logger.error(`the FlagConfigCache given to the client failed to take the flag update: ${errorMessage(err)}`);
      });
  }

  /**
   * Resolves once the store has taken every install so far, or after timeoutMillis (flushTimeoutOf): a user store
   * whose clear() or putAll() never settles must not hang close(). Never rejects.
   */
  async flushStore(timeoutMillis: number | undefined): Promise<void> {
    if (!(await settledWithin(this.storeChain, timeoutMillis))) {
      this.logger.error(
        `the FlagConfigCache given to the client did not take the last flag update within ${flushTimeoutOf(timeoutMillis)} ms; close() stopped waiting for it`,
      );
    }
  }
}

/** Fresh objects (callers may change them without touching the snapshot). */
function configsOf(snapshot: FlagSnapshot): Record<string, FlagConfig> {
  const out: Record<string, FlagConfig> = {};
  for (const key of snapshot.keys()) {
    const text = snapshot.flagText?.(key);
    const config = text !== undefined ? (JSON.parse(text) as FlagConfig) : snapshot.flag(key);
    if (config !== undefined) out[key] = config;
  }
  return out;
}
