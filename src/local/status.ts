/**
 * How fresh a client's flags are (client.status()), and when that changes
 * (the 'status' event: on a change of state, stale, source or flagCount).
 */
import { MAX_TIMER_MILLIS } from '../config/common';
import type { ClientState, ClientStatus } from './events';

export interface StatusTrackerOptions {
  /** Called with the new status when state, stale, source or flagCount changed. */
  onChange: (status: ClientStatus) => void;
  now?: () => number;
}

/** Sources whose flags are never current by definition: stale as long as they are in force. */
const STALE_SOURCES: ReadonlySet<string> = new Set(['last-known-good']);

export class StatusTracker {
  private source: string | undefined;
  private flagCount = 0;
  private lastUpdatedAt: number | undefined;
  private lastErrorAt: number | undefined;
  private lastError: string | undefined;
  private startFailed = false;
  private closed = false;
  /** Stale period of the running primary source (undefined: never stale, or not started). */
  private staleAfterMillis: number | undefined;
  /**
   * Freshness is measured from here: the last delivery or confirmation of the
   * flags in force (kept across stop()/start(): a restart delivers nothing),
   * or the start of the first cycle while there are none.
   */
  private freshSince = 0;
  private staleTimer: NodeJS.Timeout | undefined;
  private last: ClientStatus;
  private readonly now: () => number;

  constructor(private readonly options: StatusTrackerOptions) {
    this.now = options.now ?? Date.now;
    this.last = this.snapshot();
  }

  status(): ClientStatus {
    return this.snapshot();
  }

  /** A start()..stop() cycle begins with a primary source that goes stale after `staleAfterMillis`. */
  started(staleAfterMillis: number | undefined): void {
    this.closed = false;
    this.startFailed = false;
    this.staleAfterMillis = staleAfterMillis;
    // With flags in force, restarting does not make them any fresher.
    this.freshSince = this.lastUpdatedAt ?? this.now();
    this.armStaleTimer();
    this.changed();
  }

  markStartFailed(): void {
    this.startFailed = true;
    this.changed();
  }

  installed(source: string, flagCount: number): void {
    this.source = source;
    this.flagCount = flagCount;
    this.changed();
  }

  refreshed(source: string): void {
    this.source = source;
    this.lastUpdatedAt = this.now();
    this.freshSince = this.lastUpdatedAt;
    this.armStaleTimer();
    this.changed();
  }

  failed(message: string): void {
    this.lastError = message;
    this.lastErrorAt = this.now();
  }

  close(): void {
    this.closed = true;
    this.staleAfterMillis = undefined;
    if (this.staleTimer) clearTimeout(this.staleTimer);
    this.staleTimer = undefined;
    this.changed();
  }

  private isStale(): boolean {
    if (this.source !== undefined && STALE_SOURCES.has(this.source)) return true;
    return this.staleAfterMillis !== undefined && this.now() - this.freshSince >= this.staleAfterMillis;
  }

  private snapshot(): ClientStatus {
    const hasFlags = this.source !== undefined;
    const stale = !this.closed && hasFlags && this.isStale();
    let state: ClientState;
    if (this.closed) state = 'closed';
    else if (hasFlags) state = stale ? 'stale' : 'ready';
    else state = this.startFailed ? 'error' : 'initializing';
    return Object.freeze({
      state,
      source: this.source,
      lastUpdatedAt: this.lastUpdatedAt,
      lastErrorAt: this.lastErrorAt,
      lastError: this.lastError,
      stale,
      flagCount: this.flagCount,
    });
  }

  /**
   * Wake when the flags would turn stale, to emit the 'status' change (unref'd: never keeps a process alive). The
   * stale period can be longer than a timer can wait (three polling intervals of 10 days): then it wakes at the
   * longest delay and sets itself again.
   */
  private armStaleTimer(): void {
    const after = this.staleAfterMillis;
    if (after === undefined || this.closed) return;
    if (this.staleTimer) clearTimeout(this.staleTimer);
    this.staleTimer = setTimeout(
      () => {
        this.staleTimer = undefined;
        if (this.isStale()) this.changed();
        else this.armStaleTimer();
      },
      Math.min(MAX_TIMER_MILLIS, Math.max(0, this.freshSince + after - this.now()) + 1),
    );
    this.staleTimer.unref();
  }

  private changed(): void {
    const next = this.snapshot();
    const last = this.last;
    if (
      next.state === last.state &&
      next.stale === last.stale &&
      next.source === last.source &&
      next.flagCount === last.flagCount
    ) {
      return;
    }
    this.last = next;
    this.options.onChange(next);
  }
}
