/**
 * Which flags an install added, removed or changed, compared by content
 * (not object identity), for the client's 'update' events. A flag whose
 * dependency was added, removed or changed counts as changed: its result
 * can change with it.
 */
import type { FlagSnapshot } from '../engine';

export interface FlagDiff {
  added: string[];
  removed: string[];
  changed: string[];
}

/** Content fingerprints per snapshot (computed once, dropped with the snapshot). */
const fingerprints = new WeakMap<FlagSnapshot, Map<string, string>>();

function fingerprint(snapshot: FlagSnapshot, key: string): string {
  let byKey = fingerprints.get(snapshot);
  if (byKey === undefined) {
    byKey = new Map();
    fingerprints.set(snapshot, byKey);
  }
  let text = byKey.get(key);
  if (text === undefined) {
    const raw = snapshot.flagText?.(key);
    // Re-serialized so that whitespace in a hand-written file is not a change.
    text = raw !== undefined ? normalize(raw) : JSON.stringify(snapshot.flag(key) ?? null);
    byKey.set(key, text);
  }
  return text;
}

function normalize(text: string): string {
  try {
    return JSON.stringify(JSON.parse(text));
  } catch {
    return text;
  }
}

/** The keys of the flags `flag` depends on (its `dependencies`). */
function dependenciesOf(snapshot: FlagSnapshot, key: string): string[] {
  const raw = snapshot.flagText?.(key);
  let flag: unknown;
  if (raw !== undefined) {
    if (!raw.includes('"dependencies"')) return [];
    try {
      flag = JSON.parse(raw);
    } catch {
      return [];
    }
  } else {
    flag = snapshot.flag(key);
  }
  const deps = (flag as { dependencies?: unknown } | null)?.dependencies;
  return Array.isArray(deps) ? deps.filter((d): d is string => typeof d === 'string') : [];
}

export function diffSnapshots(previous: FlagSnapshot | undefined, next: FlagSnapshot): FlagDiff {
  const nextKeys = next.keys();
  if (previous === undefined) return { added: nextKeys, removed: [], changed: [] };
  const added: string[] = [];
  const changed: string[] = [];
  for (const key of nextKeys) {
    if (!previous.has(key)) added.push(key);
    else if (fingerprint(previous, key) !== fingerprint(next, key)) changed.push(key);
  }
  const removed = previous.keys().filter((key) => !next.has(key));
  const seeds = [...added, ...removed, ...changed];
  if (seeds.length === 0) return { added, removed, changed };
  const alreadyListed = new Set(seeds);
  return { added, removed, changed: [...changed, ...dependentsOf(next, seeds, alreadyListed)] };
}

/**
 * Flags of `snapshot` that depend, directly or through other flags, on one
 * of `keys`, except those in `exclude`.
 */
export function dependentsOf(snapshot: FlagSnapshot, keys: readonly string[], exclude: ReadonlySet<string>): string[] {
  const dependents = new Map<string, string[]>();
  for (const key of snapshot.keys()) {
    for (const dep of dependenciesOf(snapshot, key)) {
      const list = dependents.get(dep);
      if (list) list.push(key);
      else dependents.set(dep, [key]);
    }
  }
  if (dependents.size === 0) return [];
  const out: string[] = [];
  const seen = new Set(exclude);
  const queue = [...keys];
  while (queue.length > 0) {
    const key = queue.shift() as string;
    for (const dependent of dependents.get(key) ?? []) {
      if (seen.has(dependent)) continue;
      seen.add(dependent);
      out.push(dependent);
      queue.push(dependent);
    }
  }
  return out;
}
