/**
 * What the local server serves and what it has seen: flags, deployment keys,
 * captured analytics events, the request log, and pending faults. Routes read
 * and write it; tests inspect it through LocalServer.
 */
import type { Engine, FlagSnapshot } from '../engine/types';
import type { EvaluationFlag } from '../types';
import type { Fault, RequestLogEntry } from './types';

export interface CapturedBatch {
  apiKey: string;
  events: Record<string, unknown>[];
  options?: Record<string, unknown>;
  /** Date.now() when received. */
  receivedAt: number;
}

/** Flag payload accepted by setFlags: an array of flag configs, or the raw JSON text (served as is, even if invalid). */
export type FlagsInput = readonly EvaluationFlag[] | readonly Record<string, unknown>[] | string;

export class ServerState {
  /** Deployment keys accepted by the flag and vardata routes; empty: any key (or none) is accepted. */
  readonly apiKeys = new Set<string>();
  readonly batches: CapturedBatch[] = [];
  readonly requests: RequestLogEntry[] = [];
  maxLoggedRequests: number;
  logRequests: boolean;

  private flagsText = '[]';
  private flagsVersionValue = 0;
  private snapshotValue: FlagSnapshot | undefined;
  private engineValue: Engine | undefined;
  private readonly engineProvider: () => Engine;
  /** Vardata responses by (user header, flag keys header); evaluation is deterministic per flag set. */
  readonly vardataCache = new Map<string, Buffer>();
  private readonly faults = new Map<string, Fault[]>();

  constructor(engineProvider: () => Engine, logRequests: boolean, maxLoggedRequests: number) {
    this.engineProvider = engineProvider;
    this.logRequests = logRequests;
    this.maxLoggedRequests = maxLoggedRequests;
  }

  // ---- flags ----

  setFlags(flags: FlagsInput): void {
    this.flagsText = typeof flags === 'string' ? flags : JSON.stringify(flags);
    this.flagsVersionValue++;
    this.snapshotValue = undefined;
    this.vardataCache.clear();
  }

  /** The flag payload as served by GET /sdk/v2/flags. */
  get flagsJson(): string {
    return this.flagsText;
  }

  /** Increments on every setFlags (routes such as the stream can watch it). */
  get flagsVersion(): number {
    return this.flagsVersionValue;
  }

  get engine(): Engine {
    if (!this.engineValue) this.engineValue = this.engineProvider();
    return this.engineValue;
  }

  /** The current flags loaded into the engine (built on first use; throws if the payload is unusable). */
  snapshot(): FlagSnapshot {
    if (!this.snapshotValue) this.snapshotValue = this.engine.load(this.flagsText);
    return this.snapshotValue;
  }

  // ---- auth ----

  /** True when `Authorization: Api-Key <key>` is acceptable. */
  checkApiKey(authorization: string | undefined): boolean {
    if (this.apiKeys.size === 0) return true;
    if (!authorization || !authorization.startsWith('Api-Key ')) return false;
    return this.apiKeys.has(authorization.slice('Api-Key '.length).trim());
  }

  // ---- request log ----

  record(entry: RequestLogEntry): void {
    if (!this.logRequests) return;
    this.requests.push(entry);
    // Trim in halves so a long run (a benchmark) does not shift on every request.
    if (this.requests.length > this.maxLoggedRequests * 2) {
      this.requests.splice(0, this.requests.length - this.maxLoggedRequests);
    }
  }

  // ---- faults ----

  addFaults(route: string, faults: readonly Fault[]): void {
    const queue = this.faults.get(route) ?? [];
    for (const f of faults) queue.push({ ...f });
    this.faults.set(route, queue);
  }

  clearFaults(route?: string): void {
    if (route === undefined) this.faults.clear();
    else this.faults.delete(route);
  }

  pendingFaults(route: string): number {
    return this.faults.get(route)?.length ?? 0;
  }

  /** The fault for the next request on `route`, consuming one use of it. */
  takeFault(route: string): Fault | undefined {
    const queue = this.faults.get(route);
    if (!queue || queue.length === 0) return undefined;
    const fault = queue[0];
    const times = fault.times ?? 1;
    if (times !== Infinity) {
      if (times <= 1) queue.shift();
      else fault.times = times - 1;
    }
    return fault;
  }
}
