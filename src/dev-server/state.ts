/**
 * What the local server serves and what it has seen: flags, deployment keys,
 * captured analytics events, the request log, and pending faults. Routes read
 * and write it; tests inspect it through LocalServer.
 */
import { gzipSync } from 'node:zlib';
import type { Engine, FlagSnapshot } from '../engine/types';
import type { EvaluationFlag } from '../types';
import type { Fault, RequestLogEntry } from './types';
import { StreamHub } from './stream-hub';

/** A cohort served by GET /sdk/v1/cohort/:id. */
export interface ServedCohort {
  cohortId: string;
  /** 'User' for user cohorts, else the group type. Default 'User'. */
  groupType?: string;
  groupTypeId?: number;
  lastComputed?: number;
  /** Default: Date.now() when set. Requests with lastModified >= this get 204. */
  lastModified?: number;
  /** Default memberIds.length. Compared with maxCohortSize (413). */
  size?: number;
  memberIds: readonly string[];
}

interface StoredCohort {
  cohortId: string;
  lastModified: number;
  size: number;
  /** Serialized on first request. */
  body: Buffer | undefined;
  /** The body gzipped (evaluation-proxy mode), on first request. */
  gzipBody: Buffer | undefined;
  /** Members as a Set, built on the first memberships request. */
  memberSet: Set<string> | undefined;
  source: ServedCohort;
}

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
  maxCapturedBatches: number;
  logRequests: boolean;

  private flagsText = '[]';
  private flagsVersionValue = 0;
  private snapshotValue: FlagSnapshot | undefined;
  private engineValue: Engine | undefined;
  private readonly engineProvider: () => Engine;
  /** Vardata responses by (user header, flag keys header); evaluation is deterministic per flag set. */
  readonly vardataCache = new Map<string, Buffer>();
  private readonly faults = new Map<string, Fault[]>();
  /** Open SSE connections of /sdk/stream/v1/flags. */
  readonly streams = new StreamHub();
  /** Cohorts served by /sdk/v1/cohort/:id. */
  readonly cohorts = new Map<string, StoredCohort>();
  /** Accepted `Basic base64(apiKey:secretKey)` credentials; empty: any (or none). */
  readonly cohortKeys = new Set<string>();
  /**
   * Answer as Amplitude's evaluation-proxy does: cohorts gzipped (Content-Encoding: gzip) and 204 only for an
   * equal lastModified; /sdk/v2/memberships and /status served.
   */
  evaluationProxy = false;

  constructor(engineProvider: () => Engine, logRequests: boolean, maxLoggedRequests: number, maxCapturedBatches: number) {
    this.engineProvider = engineProvider;
    this.logRequests = logRequests;
    this.maxLoggedRequests = maxLoggedRequests;
    this.maxCapturedBatches = maxCapturedBatches;
  }

  // ---- flags ----

  setFlags(flags: FlagsInput): void {
    this.flagsText = typeof flags === 'string' ? flags : JSON.stringify(flags);
    this.flagsVersionValue++;
    this.snapshotValue = undefined;
    this.vardataCache.clear();
    this.streams.broadcast(this.flagsText);
  }

  // ---- cohorts ----

  /** Add or replace a cohort. */
  setCohort(cohort: ServedCohort): void {
    this.cohorts.set(cohort.cohortId, {
      cohortId: cohort.cohortId,
      lastModified: cohort.lastModified ?? Date.now(),
      size: cohort.size ?? cohort.memberIds.length,
      body: undefined,
      gzipBody: undefined,
      memberSet: undefined,
      source: cohort,
    });
  }

  deleteCohort(cohortId: string): boolean {
    return this.cohorts.delete(cohortId);
  }

  /** The 200 body for a cohort (serialized once). */
  cohortBody(cohortId: string): Buffer {
    const c = this.cohorts.get(cohortId);
    if (!c) throw new Error(`no cohort ${cohortId}`);
    if (!c.body) {
      const s = c.source;
      const head = JSON.stringify({
        cohortId: c.cohortId,
        groupType: s.groupType ?? 'User',
        groupTypeId: s.groupTypeId ?? 0,
        lastComputed: s.lastComputed ?? c.lastModified,
        lastModified: c.lastModified,
        size: c.size,
      });
      // memberIds serialized piecewise: a million ids must not need one giant intermediate string twice.
      const parts: Buffer[] = [Buffer.from(head.slice(0, -1) + ',"memberIds":[')];
      const ids = s.memberIds;
      const chunk = 10_000;
      for (let i = 0; i < ids.length; i += chunk) {
        const piece = JSON.stringify(ids.slice(i, i + chunk)).slice(1, -1);
        parts.push(Buffer.from((i > 0 ? ',' : '') + piece));
      }
      parts.push(Buffer.from(']}'));
      c.body = Buffer.concat(parts);
    }
    return c.body;
  }

  /** The 200 body gzipped, as the evaluation-proxy serves it (compressed once). */
  cohortGzipBody(cohortId: string): Buffer {
    const c = this.cohorts.get(cohortId);
    if (!c) throw new Error(`no cohort ${cohortId}`);
    if (!c.gzipBody) c.gzipBody = gzipSync(this.cohortBody(cohortId));
    return c.gzipBody;
  }

  /** Ids of the cohorts of `groupType` that contain `groupName` (the evaluation-proxy's memberships answer). */
  membershipsOf(groupType: string, groupName: string): string[] {
    const out: string[] = [];
    for (const c of this.cohorts.values()) {
      if ((c.source.groupType ?? 'User') !== groupType) continue;
      if (!c.memberSet) c.memberSet = new Set(c.source.memberIds);
      if (c.memberSet.has(groupName)) out.push(c.cohortId);
    }
    return out;
  }

  /** True when the Authorization header carries accepted cohort credentials (or none are configured). */
  checkCohortAuth(authorization: string | undefined): boolean {
    if (this.cohortKeys.size === 0) return true;
    if (!authorization || !authorization.startsWith('Basic ')) return false;
    return this.cohortKeys.has(authorization.slice('Basic '.length).trim());
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
    keepLast(this.requests, entry, this.maxLoggedRequests);
  }

  /** An analytics batch received (the oldest are dropped past maxCapturedBatches, as the request log). */
  recordBatch(batch: CapturedBatch): void {
    keepLast(this.batches, batch, this.maxCapturedBatches);
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

/**
 * Append `item`, keeping about the last `max` items: trimmed in halves, so a long run (a benchmark) does not shift
 * the list on every append.
 */
function keepLast<T>(list: T[], item: T, max: number): void {
  list.push(item);
  if (list.length > max * 2) list.splice(0, list.length - max);
}
