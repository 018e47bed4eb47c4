/**
 * The reference evaluation: exactly what `@amplitude/experiment-node-server` 1.13.6 `LocalEvaluationClient.evaluateV2`
 * does with its flag cache, minus cohort enrichment (the SDK layer's job, not the engine's):
 *
 *   context = convertUserToEvaluationContext(user)
 *   sorted  = topologicalSort(record, flagKeys)        // record = { [flag.key]: flag } built from the payload array
 *   results = new EvaluationEngine().evaluate(context, sorted)
 *   return evaluationVariantsToVariants(results)       // evaluationVariantToVariant on each, in Object.keys order
 *
 * The record is built from `JSON.parse(payload)`, i.e. from the same text the native engine receives, so both sides
 * see the same values (JSON.stringify turns -0 into 0, drops undefined, ...).
 *
 * Optionally instrumented (per-instance method overrides on the official engine) to count how often each operator
 * matched and failed, so the differential test can assert that the generator really exercises every feature.
 */
import { EvaluationEngine, topologicalSort } from '@amplitude/experiment-core';
import type { EvaluationFlag as CoreFlag, EvaluationVariant as CoreVariant } from '@amplitude/experiment-core';
import { convertUserToEvaluationContext } from '@amplitude/experiment-node-server/dist/src/util/user';
import { evaluationVariantsToVariants } from '@amplitude/experiment-node-server/dist/src/util/variant';
import type { Engine, FlagSnapshot, RejectedFlag } from '../../src/engine/types';
import type { ExperimentUser, Variants } from '../../src/types';

export type FlagRecord = Record<string, CoreFlag>;

/** Build the object the official SDK keeps in its flag cache (later duplicates overwrite, first position kept). */
export function buildRecord(flags: readonly CoreFlag[]): FlagRecord {
  const record: FlagRecord = {};
  for (const f of flags) record[f.key] = f;
  return record;
}

export interface OpCounts {
  /** Property present (non-null): condition matched / did not match. */
  match: number;
  fail: number;
  /** Property null/undefined: matched / did not match (the "(none)" table). */
  nullMatch: number;
  nullFail: number;
  /** Property coerced to a list (array or JSON-array string). */
  list: number;
}

export interface Coverage {
  ops: Map<string, OpCounts>;
  /** Feature counters (see `features` keys in the instrumentation below). */
  features: Map<string, number>;
}

export function newCoverage(): Coverage {
  return { ops: new Map(), features: new Map() };
}

function bump(cov: Coverage, feature: string, n = 1): void {
  cov.features.set(feature, (cov.features.get(feature) ?? 0) + n);
}

interface EngineInternals {
  matchCondition(target: unknown, condition: { selector: string[]; op: string; values: string[] }): boolean;
  evaluateSegment(target: unknown, flag: CoreFlag, segment: unknown): CoreVariant | undefined;
  bucket(target: unknown, segment: { bucket?: unknown; variant?: string }): string | undefined;
  getHash(key: string): number;
  coerceStringArray(value: unknown): string[] | undefined;
}

function selectLikeCore(target: unknown, selector: readonly string[] | undefined): unknown {
  // Same walk as experiment-core's `select` (used only for coverage bookkeeping, never for results).
  if (!selector || selector.length === 0) return undefined;
  let cur: unknown = target;
  for (const el of selector) {
    if (!el || !cur || typeof cur !== 'object') return undefined;
    cur = (cur as Record<string, unknown>)[el];
  }
  return cur === null ? undefined : cur;
}

function instrument(engine: EvaluationEngine, cov: Coverage): void {
  const e = engine as unknown as EngineInternals;
  const proto = EvaluationEngine.prototype as unknown as EngineInternals;
  let currentFlag: CoreFlag | undefined;
  e.matchCondition = function (target, condition) {
    const result = proto.matchCondition.call(this, target, condition);
    const prop = selectLikeCore(target, condition.selector);
    let c = cov.ops.get(condition.op);
    if (!c) {
      c = { match: 0, fail: 0, nullMatch: 0, nullFail: 0, list: 0 };
      cov.ops.set(condition.op, c);
    }
    if (prop === undefined) {
      if (result) c.nullMatch++;
      else c.nullFail++;
    } else {
      if (result) c.match++;
      else c.fail++;
      if (proto.coerceStringArray.call(this, prop)) c.list++;
      const root = condition.selector[0];
      if (root === 'result') bump(cov, 'result selector, value present');
      if (condition.selector[1] === 'groups') bump(cov, 'group selector, value present');
      if (condition.selector.length > 4 && condition.selector[2] === 'user_properties')
        bump(cov, 'selector below a user property');
      if (Array.isArray(prop)) bump(cov, 'array property');
      if (typeof prop === 'object' && !Array.isArray(prop)) bump(cov, 'object property (JSON text)');
      if (typeof prop === 'number') bump(cov, 'number property');
      if (typeof prop === 'boolean') bump(cov, 'boolean property');
    }
    if (!(OFFICIAL_OPS as readonly string[]).includes(condition.op)) bump(cov, 'unknown operator');
    return result;
  };
  e.evaluateSegment = function (target, flag, segment) {
    currentFlag = flag;
    const seg = segment as { conditions?: unknown[][] };
    if (seg.conditions === undefined) bump(cov, 'segment without conditions');
    else if (seg.conditions.length === 0) bump(cov, 'segment conditions []');
    else if (seg.conditions.some((g) => g.length === 0)) bump(cov, 'segment with an empty AND list');
    return proto.evaluateSegment.call(this, target, flag, segment);
  };
  e.bucket = function (target, segment) {
    const key = proto.bucket.call(this, target, segment);
    if (key === undefined) bump(cov, 'segment without variant');
    else if (currentFlag && !Object.prototype.hasOwnProperty.call(currentFlag.variants, key)) {
      bump(cov, 'variant key not in variants (fall through)');
    }
    return key;
  };
  e.getHash = function (key) {
    bump(cov, 'bucketing hash computed');
    return proto.getHash.call(this, key);
  };
}

export const OFFICIAL_OPS = [
  'is',
  'is not',
  'contains',
  'does not contain',
  'less',
  'less or equal',
  'greater',
  'greater or equal',
  'version less',
  'version less or equal',
  'version greater',
  'version greater or equal',
  'set is',
  'set is not',
  'set contains',
  'set does not contain',
  'set contains any',
  'set does not contain any',
  'regex match',
  'regex does not match',
] as const;

export interface ReferenceResult {
  variants: Variants;
  /** Number of flags the official engine evaluated (length of the topologically sorted list). */
  evaluated: number;
  /** Flag keys in the order the official engine evaluated them. */
  order: string[];
}

export class ReferenceEvaluator {
  readonly record: FlagRecord;
  private readonly engine = new EvaluationEngine();
  private readonly coverage: Coverage | undefined;

  constructor(payload: string, coverage?: Coverage) {
    this.record = buildRecord(JSON.parse(payload) as CoreFlag[]);
    this.coverage = coverage;
    if (coverage) instrument(this.engine, coverage);
  }

  /** Full topological order of the whole record (what the official client evaluates with no flagKeys). */
  order(flagKeys?: string[]): string[] {
    return topologicalSort(this.record, flagKeys).map((f) => f.key);
  }

  evaluate(user: ExperimentUser | undefined, flagKeys?: string[]): ReferenceResult {
    const context = convertUserToEvaluationContext(user);
    const sorted = topologicalSort(this.record, flagKeys);
    const results = this.engine.evaluate(context, sorted);
    if (this.coverage) {
      bump(this.coverage, 'flags evaluated', sorted.length);
      bump(this.coverage, 'flags without a result', sorted.length - Object.keys(results).length);
      if (flagKeys) bump(this.coverage, 'calls with flagKeys');
    }
    return {
      variants: evaluationVariantsToVariants(results),
      evaluated: sorted.length,
      order: sorted.map((f) => f.key),
    };
  }
}

/**
 * A stand-in Engine that wraps the reference itself. Only for developing the harness before the real engine
 * exists (DIFF_ENGINE=reference); comparing it with the reference proves nothing about the native engine.
 */
export const referenceEngine: Engine = {
  kind: 'js',
  load(payload: string | Uint8Array): FlagSnapshot {
    const text = typeof payload === 'string' ? payload : Buffer.from(payload).toString('utf8');
    const ref = new ReferenceEvaluator(text);
    const rejected: RejectedFlag[] = [];
    return {
      size: Object.keys(ref.record).length,
      rejected,
      keys: () => ref.order(),
      has: (k) => Object.prototype.hasOwnProperty.call(ref.record, k),
      flag: (k) => (Object.prototype.hasOwnProperty.call(ref.record, k) ? ref.record[k] : undefined),
      evaluate: (user, flagKeys) => ref.evaluate(user, flagKeys && flagKeys.length ? [...flagKeys] : undefined).variants,
    };
  },
};
