import type { ExperimentUser, Variants } from '../types';

/** A flag that was left out of a snapshot, and why. */
export interface RejectedFlag {
  flagKey: string;
  reason: string;
}

/**
 * An immutable set of flag configs, ready to evaluate. Built once per payload
 * (poll, stream, bootstrap); swapping snapshots is one reference assignment.
 */
export interface FlagSnapshot {
  /** Number of flags that can be evaluated (rejected flags excluded). */
  readonly size: number;
  /** Flags left out because they failed validation. */
  readonly rejected: readonly RejectedFlag[];
  /** Flag keys in evaluation (dependency) order. */
  keys(): string[];
  /** Does the snapshot hold this flag? */
  has(flagKey: string): boolean;
  /** Parsed flag config (as JSON.parse gives it), or undefined. */
  flag(flagKey: string): Record<string, unknown> | undefined;
  /**
   * Evaluate for a user. `flagKeys` absent or empty: every flag; otherwise the
   * requested flags plus the flags they depend on. Unknown keys are absent.
   * Never throws for any user value.
   */
  evaluate(user: ExperimentUser | undefined, flagKeys?: readonly string[]): Variants;
}

/** One evaluation engine (native addon, or the pure-JS fallback). */
export interface Engine {
  readonly kind: 'native' | 'js';
  /**
   * Parse a v2 flag-config payload (the JSON array `GET /sdk/v2/flags`
   * returns). Throws FlagPayloadError when the payload as a whole is unusable;
   * individual bad flags are reported in `rejected` instead.
   */
  load(payload: string | Uint8Array): FlagSnapshot;
}

/** The payload as a whole could not be used; the previous snapshot stays in force. */
export class FlagPayloadError extends Error {
  override readonly name = 'FlagPayloadError';
}
