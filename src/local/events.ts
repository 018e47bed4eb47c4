/**
 * Client events: flag changes, errors and status. Not a Node EventEmitter on
 * purpose: an 'error' with no listener must never throw into the process,
 * and a listener that throws is caught and logged, never propagated into a
 * flag update or the caller of evaluateV2. docs/events.md
 */
import type { Logger } from '../util/logger';
import { catchRejection } from '../util/rejection';
import { errorMessage } from '../util/error-message';

/** Emitted once per installed change of the flag set (compared by content). */
export interface FlagsUpdatedEvent {
  /** Every key that was added, removed or changed, in that order. */
  readonly flagKeys: readonly string[];
  readonly added: readonly string[];
  readonly removed: readonly string[];
  /** Changed by content, by a dependency that changed, or (source 'cohort') by a cohort's new members. */
  readonly changed: readonly string[];
  /** Where the change came from: 'poll', 'stream', 'file', 'data-source', 'bootstrap', 'last-known-good', 'cache', 'cohort', ... */
  readonly source: string;
}

/** Emitted as `update:<flagKey>` for each key of an update. */
export interface FlagUpdatedEvent {
  readonly flagKey: string;
  readonly kind: 'added' | 'removed' | 'changed';
  readonly source: string;
}

/** A refresh failed or a payload was unusable; the last good flags stay. */
export interface ClientErrorEvent {
  readonly source: string;
  readonly error: unknown;
  readonly message: string;
}

export type ClientState = 'initializing' | 'ready' | 'stale' | 'error' | 'closed';

/** How fresh the client's flags are: client.status(), and the 'status' event. */
export interface ClientStatus {
  /**
   * 'initializing': no flags yet, start() has not failed. 'ready': flags in
   * force and fresh. 'stale': flags in force but stale. 'error': no flags and
   * start() failed. 'closed': stop() or close() was called.
   */
  readonly state: ClientState;
  /** Source of the flags in force (see FlagsUpdatedEvent.source), undefined before any. */
  readonly source: string | undefined;
  /** When a source last delivered or confirmed the flags (ms since epoch), undefined before any. */
  readonly lastUpdatedAt: number | undefined;
  /** When the last refresh failed (ms since epoch), undefined when none has. */
  readonly lastErrorAt: number | undefined;
  /** Message of the last failure, undefined when none has failed. */
  readonly lastError: string | undefined;
  /**
   * True when the flags in force are the last-known-good ones, or the source
   * has not delivered or confirmed them for its stale period (3 polling
   * intervals for polling and streaming; files and data sources never go stale).
   */
  readonly stale: boolean;
  /** Number of flags that can be evaluated. */
  readonly flagCount: number;
}

export interface LocalClientEventMap {
  update: FlagsUpdatedEvent;
  error: ClientErrorEvent;
  status: ClientStatus;
}

export type LocalClientEventName = keyof LocalClientEventMap | `update:${string}`;

/** The listener type for an event name. */
export type LocalClientListener<E extends LocalClientEventName> = E extends keyof LocalClientEventMap
  ? (event: LocalClientEventMap[E]) => void
  : (event: FlagUpdatedEvent) => void;

type AnyListener = (event: never) => void;
/** once() wraps the listener; off() with the original removes the wrapper. */
type OnceWrapper = AnyListener & { original?: AnyListener };

export class ClientEvents {
  private readonly listeners = new Map<string, AnyListener[]>();

  constructor(private readonly logger: Logger) {}

  on(event: string, listener: AnyListener): void {
    if (typeof listener !== 'function') throw new TypeError(`listener for '${event}' must be a function`);
    const list = this.listeners.get(event);
    // A new array: an emit in progress keeps iterating the one it started with.
    this.listeners.set(event, list ? [...list, listener] : [listener]);
  }

  off(event: string, listener: AnyListener): void {
    const list = this.listeners.get(event);
    if (!list) return;
    let i = list.length - 1;
    while (i >= 0 && list[i] !== listener && (list[i] as OnceWrapper).original !== listener) i--;
    if (i < 0) return;
    const next = list.slice(0, i).concat(list.slice(i + 1));
    if (next.length === 0) this.listeners.delete(event);
    else this.listeners.set(event, next);
  }

  once(event: string, listener: AnyListener): void {
    // Returns the listener's result: emit() needs an async listener's promise to catch its rejection.
    const wrapper = ((e: never) => {
      this.off(event, wrapper);
      return (listener as (e: unknown) => unknown)(e);
    }) as OnceWrapper;
    wrapper.original = listener;
    this.on(event, wrapper);
  }

  has(event: string): boolean {
    return this.listeners.has(event);
  }

  /** True when anyone listens to 'update' or any 'update:<key>'. */
  hasUpdateListeners(): boolean {
    for (const name of this.listeners.keys()) if (name === 'update' || name.startsWith('update:')) return true;
    return false;
  }

  count(event: string): number {
    return this.listeners.get(event)?.length ?? 0;
  }

  emit(event: string, payload: unknown): void {
    const list = this.listeners.get(event);
    if (!list) return;
    const report = (err: unknown): void => this.logger.error(`a '${event}' listener threw (ignored): ${errorMessage(err)}`);
    for (const listener of list) {
      try {
        catchRejection((listener as (e: unknown) => unknown)(payload), report);
      } catch (err) {
        report(err);
      }
    }
  }

  clear(): void {
    this.listeners.clear();
  }
}
