/**
 * The native addon's whole surface, typed once (native/napi/*.cc implement
 * it). A binary implementing another version is refused by the ABI check in
 * ./index.ts, so nothing here is optional "for older binaries".
 */
import type { RegexOutcome } from './regex-guard';
import type { CohortInfo } from './cohort-store';

/** The addon's exports (native/napi/binding.cc). */
export interface NativeAddon {
  Snapshot: new (payload: string | Uint8Array) => NativeSnapshotHandle;
  /** Parse and validate on the libuv pool; finalize on the main thread. */
  parseSnapshot(bytes: Uint8Array): Promise<NativeSnapshotHandle>;
  /** Cohort members held in C++ (native/napi/cohort_store_wrap.cc). */
  CohortStore: new () => NativeCohortStoreHandle;
  internals: NativeInternals;
  abiVersion: number;
}

export interface NativeInternals {
  murmur3(text: string, seed?: number): number;
  compareVersions(a: string, b: string): number | null;
  parseVersionOk(text: string): boolean;
  numberToString(value: number): string;
  stringToNumber(text: string): number;
  compareStrings(a: string, b: string): number;
  /** The native regex subset (native/core/simple_regex.h): 1 / 0 as RegExp.test, -1 outside the subset. */
  regexTest(pattern: string, subject: string): number;
  /** toLowerCase as the evaluator computes it without V8 (ASCII and Latin-1), or null when it asks V8. */
  latin1Lower(text: string): string | null;
}

/**
 * A string from the addon: a plain string, or its UTF-16 code units when it
 * holds a lone surrogate (Node-API would replace those with U+FFFD).
 */
export type NativeString = string | Uint16Array;

/**
 * What finalize reports about a snapshot, with its strings as `S`: `NativeString` as the addon returns them,
 * `string` once the engine has converted them.
 */
export interface FinalizeInfoOf<S> {
  keys: S[];
  variantKeys: S[][];
  segmentCounts: number[];
  resultBase: number[];
  payloadIndex: number[];
  /** Flag indices in evaluation (dependency) order. */
  order: number[];
  /** Each flag's JSON in the payload bytes: start, length, start, length... */
  payloadSpans: number[];
  /** Flags with a cohort filter. */
  cohortFlags: number[];
  resultCount: number;
  rejected: Array<{ flagKey: S; reason: S }>;
  output: Int32Array;
  input: Int32Array;
  /** The context slot trie: each slot's parent slot (-1: the context) and key. */
  slotParents: number[];
  slotKeys: S[];
}

export type RawFinalizeInfo = FinalizeInfoOf<NativeString>;

export interface NativeSnapshotHandle {
  regexPatterns(): NativeString[];
  nonAsciiContainsValues(): NativeString[];
  finalize(
    invalidRegexes: Array<[number, string]>,
    lowered: string[],
    regexTest: (id: number, subject: NativeString) => RegexOutcome,
    toLowerCase: (text: NativeString) => string,
  ): RawFinalizeInfo;
  evaluate(userJson: string, keyCount: number): number;
  /** The traced evaluation behind evaluateV2Details (native/core/evaluator_explain.cc): JSON text. */
  explain(userJson: string, keyCount: number): NativeString;
  /**
   * The context slots a flag's dependency closure reads (flag -1: every
   * flag's), -1 standing for the whole context. `evaluate` takes their values
   * in this order ('#' + JSON array, src/engine/slot-values.ts) in place of
   * the user, for a call of that one flag (or all flags).
   */
  readSlots(flag: number): number[] | undefined;
}

export interface NativeCohortStoreHandle {
  load(body: Uint8Array, cohortId: string): Promise<CohortInfo>;
  remove(cohortId: string): boolean;
  has(cohortId: string): boolean;
  info(cohortId: string): CohortInfo | undefined;
  ids(): string[];
  memberOf(groupType: string, member: string, cohortIds: readonly string[]): string[];
  memoryBytes(): number;
  releaseFreeMemory(): Promise<boolean>;
}
