/**
 * Evaluation details (evaluateV2Details): each variant with the reason it was
 * chosen, built from the native engine's trace (FlagSnapshot.explain) and the
 * flag config. evaluateV2 never computes any of this.
 */
import type { FlagSnapshot, FlagTrace, SegmentTrace } from './types';
import type { ExperimentUser, Variant } from '../types';

/**
 * Why a flag got its variant.
 * - TARGETING_MATCH: a segment's conditions matched (its first matching AND-group is in `matchedConditions`).
 * - DEPENDENCY: like TARGETING_MATCH, but the matching conditions read another flag's result (a holdout or
 *   mutual-exclusion group decided): `dependency` names it.
 * - SPLIT: the catch-all segment bucketed the user into an allocation and distribution (`bucket`).
 * - DEFAULT: the catch-all segment's own variant (not allocated, or nothing to bucket by).
 * - NO_MATCH: no segment gave a variant; evaluateV2 leaves the flag out.
 * - UNEXPLAINED: the engine cannot trace (the pure-JS fallback): the variant is right, the reason unknown.
 */
export type EvaluationReason = 'TARGETING_MATCH' | 'DEPENDENCY' | 'SPLIT' | 'DEFAULT' | 'NO_MATCH' | 'UNEXPLAINED';

/** One condition as it was checked. */
export interface ConditionDetail {
  selector: unknown[];
  op: string;
  values: unknown[];
  matched: boolean;
  /** What the selector gave for this user: a string, a list (list-valued properties), or null (missing). */
  actual: string | string[] | null;
}

/** How the user was bucketed in a segment. */
export interface BucketDetail {
  selector: unknown[];
  salt: string;
  /** The value hashed, or null when the user has none (then the segment's own variant applies). */
  value: string | null;
  /** murmur3_x86_32(`${salt}/${value}`). */
  hash?: number;
  /** hash % 100, checked against the allocation ranges (percent of users). */
  allocationValue?: number;
  /** floor(hash / 100), checked against the distribution ranges (the variant split). */
  distributionValue?: number;
  allocationIndex?: number;
  allocationRange?: unknown;
  distributionIndex?: number;
  distributionRange?: unknown;
}

/** One segment tried. */
export interface SegmentDetail {
  index: number;
  name: string | undefined;
  /** Conditions matched (true for a segment without conditions). */
  matched: boolean;
  /** Per OR-group, its AND-conditions as far as they were checked (up to the first false one). */
  conditionGroups: ConditionDetail[][];
  bucket?: BucketDetail;
  /** The variant key this segment gave, if any. */
  variant: string | undefined;
}

export interface EvaluationDetail {
  flagKey: string;
  /** Exactly what evaluateV2 returns for this flag (the same frozen object), or undefined (NO_MATCH). */
  variant: Variant | undefined;
  reason: EvaluationReason;
  /** The segment that gave the variant (-1: none). */
  segmentIndex: number;
  segmentName: string | undefined;
  /** The AND-group of conditions that matched in that segment. */
  matchedConditions: ConditionDetail[] | undefined;
  bucket: BucketDetail | undefined;
  /** For DEPENDENCY: the flag whose result decided, and the variant key it had. */
  dependency: { flagKey: string; variant: string | string[] | null } | undefined;
  /** Cohorts the evaluated conditions reference that are not loaded (their conditions cannot match for members). */
  missingCohorts: string[];
  /** Every segment tried, in order. */
  segments: SegmentDetail[];
  /** Flag metadata from the config (flagType, flagVersion, experimentKey...). */
  flagMetadata: Record<string, unknown>;
}

export type EvaluationDetails = Record<string, EvaluationDetail>;

type JsonObject = Record<string, unknown>;

const asObject = (v: unknown): JsonObject => (v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as JsonObject) : {});
const asArray = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);

function segmentDetail(trace: SegmentTrace, index: number, config: JsonObject): SegmentDetail {
  const groupsConfig = asArray(config.conditions);
  const conditionGroups = (trace.groups ?? []).map((group, g) =>
    group.map((c, k) => {
      const cc = asObject(asArray(groupsConfig[g])[k]);
      return {
        selector: asArray(cc.selector),
        op: String(cc.op),
        values: asArray(cc.values),
        matched: c.matched,
        actual: c.value,
      };
    }),
  );
  let bucket: BucketDetail | undefined;
  if (trace.bucket) {
    const b = asObject(config.bucket);
    const allocations = asArray(b.allocations);
    const t = trace.bucket;
    bucket = { selector: asArray(b.selector), salt: String(b.salt), value: t.value };
    if (t.value !== null) {
      bucket.hash = t.hash;
      bucket.allocationValue = t.allocationValue;
      bucket.distributionValue = t.distributionValue;
      bucket.allocationIndex = t.allocation;
      if (t.allocation !== undefined && t.allocation >= 0) {
        const alloc = asObject(allocations[t.allocation]);
        bucket.allocationRange = alloc.range;
        bucket.distributionIndex = t.distribution;
        if (t.distribution !== undefined && t.distribution >= 0) {
          bucket.distributionRange = asObject(asArray(alloc.distributions)[t.distribution]).range;
        }
      }
    }
  }
  const name = asObject(config.metadata).segmentName;
  return {
    index,
    name: typeof name === 'string' ? name : undefined,
    matched: trace.conditions,
    conditionGroups,
    bucket,
    variant: trace.variant,
  };
}

function isCohortSelector(selector: unknown[]): boolean {
  return selector.length > 0 && selector[selector.length - 1] === 'cohort_ids';
}

/** Details of one traced flag. `cohortLoaded` answers for cohort ids the conditions reference. */
export function buildDetail(
  trace: FlagTrace,
  flag: JsonObject | undefined,
  cohortLoaded: (cohortId: string) => boolean,
): EvaluationDetail {
  const configs = asArray(flag?.segments);
  const segments = trace.segments.map((s, i) => segmentDetail(s, i, asObject(configs[i])));
  const chosen = trace.segmentIndex >= 0 ? segments[trace.segmentIndex] : undefined;
  const matchedConditions = chosen?.conditionGroups.find((g) => g.length > 0 && g.every((c) => c.matched));
  let reason: EvaluationReason;
  let dependency: EvaluationDetail['dependency'];
  if (trace.variant === undefined || !chosen) {
    reason = 'NO_MATCH';
  } else if (matchedConditions) {
    const dep = matchedConditions.find((c) => c.selector[0] === 'result' && typeof c.selector[1] === 'string');
    if (dep) {
      reason = 'DEPENDENCY';
      dependency = { flagKey: dep.selector[1] as string, variant: dep.actual };
    } else {
      reason = 'TARGETING_MATCH';
    }
  } else if (chosen.bucket && chosen.bucket.distributionIndex !== undefined && chosen.bucket.distributionIndex >= 0) {
    reason = 'SPLIT';
  } else {
    reason = 'DEFAULT';
  }
  const missing = new Set<string>();
  for (const s of segments) {
    for (const group of s.conditionGroups) {
      for (const c of group) {
        if (!isCohortSelector(c.selector)) continue;
        for (const id of c.values) if (typeof id === 'string' && !cohortLoaded(id)) missing.add(id);
      }
    }
  }
  return {
    flagKey: trace.flagKey,
    variant: trace.variant,
    reason,
    segmentIndex: trace.segmentIndex,
    segmentName: chosen?.name,
    matchedConditions,
    bucket: chosen?.bucket,
    dependency,
    missingCohorts: [...missing],
    segments,
    flagMetadata: { ...asObject(flag?.metadata) },
  };
}

/** Details for every flag evaluate() would visit; a variant-only answer when the engine cannot trace. */
export function explainSnapshot(
  snapshot: FlagSnapshot,
  user: ExperimentUser | undefined,
  flagKeys: readonly string[] | undefined,
  cohortLoaded: (cohortId: string) => boolean,
): EvaluationDetails {
  const out: EvaluationDetails = {};
  if (typeof snapshot.explain === 'function') {
    for (const trace of snapshot.explain(user, flagKeys)) {
      out[trace.flagKey] = buildDetail(trace, snapshot.flag(trace.flagKey), cohortLoaded);
    }
    return out;
  }
  const variants = snapshot.evaluate(user, flagKeys);
  for (const [flagKey, variant] of Object.entries(variants)) {
    out[flagKey] = {
      flagKey,
      variant,
      reason: 'UNEXPLAINED',
      segmentIndex: -1,
      segmentName: undefined,
      matchedConditions: undefined,
      bucket: undefined,
      dependency: undefined,
      missingCohorts: [],
      segments: [],
      flagMetadata: { ...asObject(snapshot.flag(flagKey)?.metadata) },
    };
  }
  return out;
}
