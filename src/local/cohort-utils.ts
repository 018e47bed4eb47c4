/**
 * Which cohorts a flag set references, following the official SDK's
 * CohortUtils: a condition is a cohort filter when its op is `set contains
 * any` or `set does not contain any` and its selector ends with `cohort_ids`;
 * `[context, user, cohort_ids]` is the "User" group type,
 * `[context, groups, <type>, cohort_ids]` is group type <type>, other
 * selectors are ignored.
 */
import type { FlagSnapshot } from '../engine';
import type { CohortStore } from '../engine/cohort-store';
import type { ExperimentUser } from '../types';

export const USER_GROUP_TYPE = 'User';

interface ConditionLike {
  op?: unknown;
  selector?: unknown;
  values?: unknown;
}

export function isCohortFilter(condition: ConditionLike): boolean {
  const op = condition.op;
  const selector = condition.selector;
  return (
    (op === 'set contains any' || op === 'set does not contain any') &&
    Array.isArray(selector) &&
    selector.length !== 0 &&
    selector[selector.length - 1] === 'cohort_ids'
  );
}

/** Cohort ids by group type for one flag (insertion order kept). */
export function extractCohortIdsByGroup(flag: Record<string, unknown> | undefined): Map<string, Set<string>> {
  const byGroup = new Map<string, Set<string>>();
  const segments = flag?.segments;
  if (!Array.isArray(segments)) return byGroup;
  for (const segment of segments as Array<{ conditions?: unknown } | null>) {
    if (!segment || !Array.isArray(segment.conditions)) continue;
    for (const outer of segment.conditions as unknown[]) {
      if (!Array.isArray(outer)) continue;
      for (const condition of outer as ConditionLike[]) {
        if (!condition || typeof condition !== 'object' || !isCohortFilter(condition)) continue;
        const selector = condition.selector as unknown[];
        if (selector.length <= 2) continue;
        let groupType: string;
        if (selector[1] === 'user') groupType = USER_GROUP_TYPE;
        else if (selector.includes('groups')) groupType = String(selector[2]);
        else continue;
        let set = byGroup.get(groupType);
        if (!set) byGroup.set(groupType, (set = new Set()));
        if (Array.isArray(condition.values)) for (const v of condition.values) set.add(String(v));
      }
    }
  }
  return byGroup;
}

/** The cohort references of one snapshot, computed once when it is installed. */
export interface CohortIndex {
  /** Cohort ids by group type, over all flags ("User" for user cohorts). */
  readonly byGroup: ReadonlyMap<string, readonly string[]>;
  /** byGroup.get('User'), or undefined when no flag targets user cohorts. */
  readonly user: readonly string[] | undefined;
  /** Every referenced cohort id. */
  readonly all: ReadonlySet<string>;
  /** Cohort ids by flag key (flags without cohorts are absent). */
  readonly byFlag: ReadonlyMap<string, ReadonlySet<string>>;
}

/** The snapshot's cohort references, or undefined when it has none (the common case). */
export function buildCohortIndex(snapshot: FlagSnapshot): CohortIndex | undefined {
  const groups = new Map<string, Set<string>>();
  const byFlag = new Map<string, Set<string>>();
  const all = new Set<string>();
  // The native engine knows which flags have cohort filters, so the others'
  // JSON is never parsed on the JS side.
  for (const key of snapshot.cohortFlagKeys?.() ?? snapshot.keys()) {
    const ofFlag = extractCohortIdsByGroup(snapshot.flag(key));
    if (ofFlag.size === 0) continue;
    const flagIds = new Set<string>();
    for (const [groupType, ids] of ofFlag) {
      let merged = groups.get(groupType);
      if (!merged) groups.set(groupType, (merged = new Set()));
      for (const id of ids) {
        merged.add(id);
        flagIds.add(id);
        all.add(id);
      }
    }
    if (flagIds.size > 0) byFlag.set(key, flagIds);
  }
  if (groups.size === 0) return undefined;
  const byGroup = new Map<string, readonly string[]>();
  for (const [groupType, ids] of groups) if (ids.size > 0) byGroup.set(groupType, Object.freeze(Array.from(ids)));
  if (byGroup.size === 0) return undefined;
  return { byGroup, user: byGroup.get(USER_GROUP_TYPE), all, byFlag };
}

/**
 * The user to evaluate, with `cohort_ids` (user cohorts the user_id is in)
 * and `group_cohort_ids` (for the first name of each group type) set as the
 * official SDK's enrichUserWithCohorts does, restricted to the cohorts the
 * flags reference. The caller's object is never modified: a copy is made
 * when something is set (nested group_cohort_ids objects are copied too).
 * Never throws.
 */
export function enrichUser(
  user: ExperimentUser,
  index: CohortIndex,
  store: Pick<CohortStore, 'memberOf'> | undefined,
): ExperimentUser {
  try {
    return enrichReadable(user, index, store);
  } catch {
    // A field of the user cannot be read (a throwing getter or Proxy trap): the user goes to the engine as given,
    // which reports it and evaluates it as it does every such user, whether or not a flag uses cohorts.
    return user;
  }
}

function enrichReadable(
  user: ExperimentUser,
  index: CohortIndex,
  store: Pick<CohortStore, 'memberOf'> | undefined,
): ExperimentUser {
  let out: ExperimentUser | undefined;
  const userIds = index.user;
  if (userIds !== undefined && user.user_id) {
    out = { ...user };
    out.cohort_ids = store ? store.memberOf(USER_GROUP_TYPE, user.user_id, userIds) : [];
  }
  const groups = user.groups;
  if (groups !== undefined && groups !== null && typeof groups === 'object') {
    let groupCohorts: Record<string, Record<string, string[]>> | undefined;
    for (const groupType in groups) {
      const names = groups[groupType];
      if (names === null || names === undefined || !(names.length > 0)) continue;
      const ids = index.byGroup.get(groupType);
      if (ids === undefined) continue;
      const name = names[0];
      if (out === undefined) out = { ...user };
      if (groupCohorts === undefined) {
        const existing = user.group_cohort_ids;
        groupCohorts = existing && typeof existing === 'object' ? { ...existing } : {};
        out.group_cohort_ids = groupCohorts;
      }
      const existingType = groupCohorts[groupType];
      const byName: Record<string, string[]> = existingType && typeof existingType === 'object' ? { ...existingType } : {};
      byName[name] = store ? store.memberOf(groupType, name, ids) : [];
      groupCohorts[groupType] = byName;
    }
  }
  return out ?? user;
}
