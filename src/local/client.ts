/**
 * Local evaluation: flag configs are fetched once and refreshed in the
 * background; evaluateV2 runs synchronously in the native engine.
 */
import { loadEngine, type Engine, type FlagSnapshot, FlagPayloadError } from '../engine';
import { type FlagBootstrap, type LocalEvaluationConfig, type ResolvedLocalConfig, resolveLocalConfig } from '../config/local';
import type { ExperimentUser, Variants } from '../types';
import { HttpClient } from '../util/http';
import type { Logger } from '../util/logger';
import { FlagPoller } from './flag-poller';

export interface EvaluateOptions {
  /** Track an exposure event for each evaluated variant (needs exposureConfig). */
  tracksExposure?: boolean;
}

function bootstrapPayload(bootstrap: FlagBootstrap): string {
  if (typeof bootstrap === 'string') return bootstrap;
  return JSON.stringify(Array.isArray(bootstrap) ? bootstrap : Object.values(bootstrap));
}

export class LocalEvaluationClient {
  private readonly config: ResolvedLocalConfig;
  private readonly logger: Logger;
  private readonly engine: Engine;
  private readonly http: HttpClient;
  private readonly poller: FlagPoller;
  private snapshot: FlagSnapshot | undefined;
  private startPromise: Promise<void> | undefined;
  private closed = false;
  private readonly reported = new Set<string>();
  private warnedEmpty = false;

  constructor(
    private readonly apiKey: string,
    config?: LocalEvaluationConfig,
  ) {
    this.config = resolveLocalConfig(config);
    this.logger = this.config.logger;
    if (typeof apiKey !== 'string' || apiKey.length === 0) {
      this.logger.error('Experiment API key is empty: flags cannot be fetched');
    }
    this.engine = loadEngine();
    this.http = new HttpClient({ dispatcher: this.config.dispatcher });
    this.poller = new FlagPoller({
      apiKey,
      serverUrl: this.config.serverUrl,
      pollingIntervalMillis: this.config.flagConfigPollingIntervalMillis,
      requestTimeoutMillis: this.config.flagConfigPollerRequestTimeoutMillis,
      http: this.http,
      logger: this.logger,
      onPayload: (body) => this.applyFlagPayload(body, 'server'),
    });
    if (this.config.bootstrap !== undefined) {
      this.applyFlagPayload(bootstrapPayload(this.config.bootstrap), 'bootstrap');
    }
  }

  /**
   * Parse a flag payload into a new snapshot and swap it in. On a payload that
   * is unusable as a whole, log and keep the previous snapshot. Flags that fail
   * validation are logged once each and left out; the others are served.
   */
  private applyFlagPayload(payload: string | Uint8Array, source: string): boolean {
    let next: FlagSnapshot;
    try {
      next = this.engine.load(payload);
    } catch (err) {
      const why = err instanceof FlagPayloadError ? err.message : `unexpected error: ${(err as Error).message}`;
      this.logger.error(`flag configs from ${source} were not applied (${why}); keeping the previous flags`);
      return false;
    }
    for (const r of next.rejected) {
      const line = `flag ${JSON.stringify(r.flagKey)} left out: ${r.reason}`;
      if (!this.reported.has(line)) {
        this.reported.add(line);
        this.logger.error(line);
      }
    }
    this.snapshot = next;
    this.logger.debug(`loaded ${next.size} flags from ${source}`);
    return true;
  }

  /**
   * Fetch flag configs and start polling. Resolves once flags are loaded;
   * rejects on an authentication failure or after startTimeoutMillis. Polling
   * continues in the background either way until stop().
   */
  start(): Promise<void> {
    if (this.closed) return Promise.reject(new Error('client is stopped'));
    if (!this.startPromise) {
      const deadline = Date.now() + this.config.startTimeoutMillis;
      this.startPromise = this.poller.loadInitial(deadline).finally(() => {
        if (!this.closed) this.poller.startPolling();
      });
    }
    return this.startPromise;
  }

  /** Stop polling and abort requests in flight. */
  stop(): void {
    if (this.closed) return;
    this.closed = true;
    this.poller.stop();
    void this.http.close().catch(() => undefined);
  }

  /** stop(), awaiting the release of connections. */
  async close(): Promise<void> {
    this.stop();
    await this.http.close().catch(() => undefined);
  }

  /**
   * Evaluate flags for a user, synchronously. `flagKeys` absent or empty: all
   * flags; otherwise those flags plus the flags they depend on. Default
   * variants are included. Returned variants are frozen and shared between
   * calls: copy one before changing it.
   */
  evaluateV2(user: ExperimentUser, flagKeys?: string[], options?: EvaluateOptions): Variants {
    const snapshot = this.snapshot;
    if (!snapshot) {
      if (!this.warnedEmpty) {
        this.warnedEmpty = true;
        this.logger.warn('evaluateV2 called before any flags were loaded (call and await start(), or pass bootstrap)');
      }
      return {};
    }
    void options;
    return snapshot.evaluate(user, flagKeys);
  }

  /**
   * @deprecated use evaluateV2. Like the official SDK: async, and variants
   * whose metadata marks them default are left out.
   */
  async evaluate(user: ExperimentUser, flagKeys?: string[], options?: EvaluateOptions): Promise<Variants> {
    const all = this.evaluateV2(user, flagKeys, options);
    const out: Variants = {};
    for (const key of Object.keys(all)) {
      if (!all[key].metadata?.default) out[key] = all[key];
    }
    return out;
  }

  /** Keys of the flags currently loaded. */
  flagKeys(): string[] {
    return this.snapshot?.keys() ?? [];
  }

  /** The deployment key this client fetches with (for diagnostics; never logged). */
  protected get deploymentKey(): string {
    return this.apiKey;
  }
}
