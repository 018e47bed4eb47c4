import type { ExperimentUser, Variant, Variants } from '../types';

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
   * The flag's config as JSON text (the payload's own bytes where the engine
   * keeps them), or undefined: compares flags by content without keeping
   * parsed copies. Same content gives the same text within one engine.
   */
  flagText?(flagKey: string): string | undefined;
  /**
   * Keys of the flags with a cohort filter (`set contains any` / `set does
   * not contain any` on a selector ending in "cohort_ids"), when the engine
   * knows them without parsing every flag; otherwise use keys().
   */
  cohortFlagKeys?(): string[];
  /**
   * Evaluate for a user. `flagKeys` absent or empty: every flag; otherwise the
   * requested flags plus the flags they depend on. Unknown keys are absent.
   * Never throws for any user value.
   */
  evaluate(user: ExperimentUser | undefined, flagKeys?: readonly string[]): Variants;
  /**
   * The same evaluation with a trace of why each flag got its result (the
   * flags evaluate() would visit, in the same order, with the same variant
   * objects). Engines that cannot trace leave it out.
   */
  explain?(user: ExperimentUser | undefined, flagKeys?: readonly string[]): FlagTrace[];
}

/** What one condition saw: its result and the value its selector gave (a list, a string, or null when missing). */
export interface ConditionTrace {
  matched: boolean;
  value: string | string[] | null;
}

/** Bucketing of a segment whose conditions matched. `value` null: nothing to hash (the segment's own variant applies). */
export interface BucketTrace {
  value: string | null;
  /** murmur3_x86_32 of `${salt}/${value}`. */
  hash?: number;
  /** hash % 100, checked against allocation ranges. */
  allocationValue?: number;
  /** floor(hash / 100), checked against distribution ranges. */
  distributionValue?: number;
  /** Index of the allocation used (-1: none in range). */
  allocation?: number;
  /** Index of the distribution used (-1: none in range). */
  distribution?: number;
}

/** One segment tried, in order, until one gives a variant. */
export interface SegmentTrace {
  /** Did the conditions match (true when the segment has none)? */
  conditions: boolean;
  /** Per OR-group, its AND-conditions up to the first false one; groups after a matching one are not tried. */
  groups?: ConditionTrace[][];
  bucket?: BucketTrace;
  /** The variant key this segment gives, or undefined (conditions failed, or no variant). */
  variant: string | undefined;
}

/** Why one flag got its result. */
export interface FlagTrace {
  flagKey: string;
  /** The variant evaluate() returns for this flag (same object), or undefined when it returns none. */
  variant: Variant | undefined;
  /** Index of the segment that gave the variant, or -1. */
  segmentIndex: number;
  segments: SegmentTrace[];
}

/**
 * Where a snapshot reports, at error level (a caller must see it at the default
 * log level), what must not throw:
 * a user that cannot be read (a throwing getter), a regex condition stopped at
 * its time bound. The client passes its SDK logger.
 */
export interface EngineLog {
  error(message: string): void;
}

/** One evaluation engine (native addon, or the pure-JS fallback). */
export interface Engine {
  readonly kind: 'native' | 'js';
  /**
   * Parse a v2 flag-config payload (the JSON array `GET /sdk/v2/flags`
   * returns). Throws FlagPayloadError when the payload as a whole is unusable;
   * individual bad flags are reported in `rejected` instead.
   */
  load(payload: string | Uint8Array, log?: EngineLog): FlagSnapshot;
  /**
   * The same, with the parse and validation off the main thread where the
   * engine can (the native one does them on the libuv pool); rejects with
   * FlagPayloadError.
   */
  loadAsync?(payload: string | Uint8Array, log?: EngineLog): Promise<FlagSnapshot>;
}

/** The payload as a whole could not be used; the previous snapshot stays in force. */
export class FlagPayloadError extends Error {
  override readonly name = 'FlagPayloadError';
}
