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
import { errorMessage } from '../util/error-message';
import type { Logger } from '../util/logger';

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

/** Told when a field of a user cannot be read (a throwing getter or Proxy trap). */
export type UnreadableUserReport = (message: string) => void;

/**
 * Logs each distinct report once (at most 100 of them), at error level: a user's mistake must be visible at the
 * default log level, and a getter that throws for every user must not log on every evaluation. As the engine does.
 */
export function reportUnreadableOnce(logger: Logger): UnreadableUserReport {
  const reported = new Set<string>();
  return (message) => {
    if (reported.has(message) || reported.size >= 100) return;
    reported.add(message);
    logger.error(message);
  };
}

/** `get()`, or undefined (reported) when it throws: the field is then treated as absent. */
export function readUserField<T>(what: string, get: () => T, report: UnreadableUserReport | undefined): T | undefined {
  try {
    return get();
  } catch (err) {
    report?.(`a user object cannot be read (${errorMessage(err)}); its ${what} is evaluated as absent`);
    return undefined;
  }
}

/** A shallow copy of `user`; the properties that cannot be read are left out (reported). */
function copyUser(user: ExperimentUser, report: UnreadableUserReport | undefined): ExperimentUser {
  try {
    return { ...user };
  } catch {
    // One of its properties throws: copy the others one by one.
  }
  const out: Record<string, unknown> = {};
  const keys = readUserField('properties', () => Object.keys(user), report) ?? [];
  for (const key of keys) {
    const value = readUserField(key, () => (user as Record<string, unknown>)[key], report);
    if (value !== undefined) out[key] = value;
  }
  return out;
}

/**
 * The user to evaluate, with `cohort_ids` (user cohorts the user_id is in)
 * and `group_cohort_ids` (for the first name of each group type) set as the
 * official SDK's enrichUserWithCohorts does, restricted to the cohorts the
 * flags reference. The caller's object is never modified: a copy is made
 * when something is set (nested group_cohort_ids objects are copied too).
 * Never throws: a field that cannot be read (a throwing getter) is reported
 * and treated as absent.
 */
export function enrichUser(
  user: ExperimentUser,
  index: CohortIndex,
  store: Pick<CohortStore, 'memberOf'> | undefined,
  report?: UnreadableUserReport,
): ExperimentUser {
  let out: ExperimentUser | undefined;
  const userIds = index.user;
  const userId = userIds === undefined ? undefined : readUserField('user_id', () => user.user_id, report);
  if (userIds !== undefined && userId) {
    out = copyUser(user, report);
    out.cohort_ids = store ? store.memberOf(USER_GROUP_TYPE, userId, userIds) : [];
  }
  const groups = readUserField('groups', () => user.groups, report);
  if (groups !== undefined && groups !== null && typeof groups === 'object') {
    let groupCohorts: Record<string, Record<string, string[]>> | undefined;
    const groupTypes = readUserField('groups', () => groupTypesOf(groups), report) ?? [];
    for (const groupType of groupTypes) {
      const first = readUserField(
        `groups.${groupType}`,
        () => {
          const names = groups[groupType];
          return names === null || names === undefined || !(names.length > 0) ? undefined : { name: names[0] };
        },
        report,
      );
      if (first === undefined) continue;
      const ids = index.byGroup.get(groupType);
      if (ids === undefined) continue;
      if (out === undefined) out = copyUser(user, report);
      if (groupCohorts === undefined) {
        groupCohorts =
          readUserField(
            'group_cohort_ids',
            () => {
              const existing = user.group_cohort_ids;
              return existing && typeof existing === 'object' ? { ...existing } : {};
            },
            report,
          ) ?? {};
        out.group_cohort_ids = groupCohorts;
      }
      const existingType = groupCohorts[groupType];
      const byName =
        readUserField(
          `group_cohort_ids.${groupType}`,
          (): Record<string, string[]> => (existingType && typeof existingType === 'object' ? { ...existingType } : {}),
          report,
        ) ?? {};
      byName[first.name] = store ? store.memberOf(groupType, first.name, ids) : [];
      groupCohorts[groupType] = byName;
    }
  }
  return out ?? user;
}

/** The group types of `groups` in for...in order (inherited enumerable ones included, as the official SDK's loop). */
function groupTypesOf(groups: object): string[] {
  const types: string[] = [];
  for (const groupType in groups) types.push(groupType);
  return types;
}
