/**
 * The user as the JSON text the native engine reads, written so that every
 * value the evaluator reads gives the official engine's answer.
 *
 * The official engine reads the live object: a value is coerced with
 * `String(value)` (objects with `JSON.stringify`), group names are
 * `groups[type][0]` of whatever `groups[type]` is. Plain JSON loses some of
 * that: `NaN` and `±Infinity` become null, functions and symbols vanish, a
 * `Date` becomes its bare ISO text, a string of group names is not an array.
 * Such users are rare, so the common case stays one `JSON.stringify` plus a
 * walk that only reads types (needsTaggedJson). A user holding one of these values is written
 * by `taggedJson` instead: each such value becomes a tagged string carrying
 * both what the official compares when it reads the value and what
 * JSON.stringify writes for it inside a container (native/core/script_value.h),
 * and `groups` takes the array form the official reads.
 */
import type { ExperimentUser } from '../types';
import { errorMessage } from '../util/error-message';

type Json = Record<string, unknown>;

/** Nesting past this (only reachable by hand-built users) is written as null. */
const MAX_DEPTH = 400;

/**
 * A value JSON cannot hold, as the native engine reads it (native/core/script_value.h):
 * a JSON string "\u0000" + kind + jsonLength + ":" + json + direct, where kind is
 * t/f (truthy/falsy), `json` what JSON.stringify writes for it inside a container
 * (empty: nothing) and `direct` what the official coerceString gives when the value
 * itself is read. Undefined for the values JSON writes faithfully.
 */
function tagged(v: unknown): string | undefined {
  let json: string | undefined;
  let direct: string;
  switch (typeof v) {
    case 'number':
      if (Number.isFinite(v)) return undefined;
      json = 'null';
      direct = String(v);
      break;
    case 'string':
      // Only a string that would read as a tag needs one.
      if (v.charCodeAt(0) !== 0) return undefined;
      json = JSON.stringify(v);
      direct = v;
      break;
    case 'function':
    case 'symbol':
      direct = String(v);
      break;
    case 'bigint':
      // JSON.stringify throws on it; its decimal text keeps the user evaluable.
      json = JSON.stringify(String(v));
      direct = String(v);
      break;
    case 'object': {
      if (v === null || typeof (v as { toJSON?: unknown }).toJSON !== 'function') return undefined;
      try {
        json = JSON.stringify(v);
      } catch {
        json = undefined;
      }
      if (json === undefined) return undefined;
      direct = json; // coerceString of an object is its JSON.stringify
      break;
    }
    default:
      return undefined;
  }
  const jsonText = json ?? '';
  return '\u0000' + (v ? 't' : 'f') + Buffer.byteLength(jsonText, 'utf8') + ':' + jsonText + direct;
}

/** The tag of an explicit `undefined` user field (the official context keeps the key). */
const UNDEFINED_TAG = '\u0000u';

/** A primitive plain JSON changes: a non-finite number, a function, a symbol, a BigInt. */
function readsDifferently(x: unknown): boolean {
  switch (typeof x) {
    case 'number':
      return x - x !== 0;
    case 'function':
    case 'symbol':
    case 'bigint':
      return true;
    default:
      return false;
  }
}

const GROUP_KEYS = new Set(['groups', 'group_properties', 'group_cohort_ids']);

/**
 * Does plain JSON change what the official engine would read somewhere in
 * this user: a value readsDifferently() reports at any depth (for-in over the
 * user's own values: about a sixth of JSON.stringify's time on a typical
 * user), or explicit `undefined` fields and nothing else (the official
 * context then has `user: {}`; JSON drops it)?
 */
export function needsTaggedJson(user: Json): boolean {
  let undefinedField = false;
  let definedField = false;
  for (const key in user) {
    const v = user[key];
    if (v === undefined) undefinedField = true;
    else if (!GROUP_KEYS.has(key)) definedField = true;
    if (typeof v === 'object' ? v !== null && holdsDifferent(v as Json, 1) : readsDifferently(v)) return true;
  }
  return undefinedField && !definedField;
}

function holdsDifferent(v: Json | unknown[], depth: number): boolean {
  if (depth > MAX_DEPTH) return false;
  if (typeof (v as { toJSON?: unknown }).toJSON === 'function') return true;
  if (Array.isArray(v)) {
    for (let i = 0; i < v.length; i++) {
      const e: unknown = v[i];
      if (typeof e === 'object' ? e !== null && holdsDifferent(e as Json, depth + 1) : readsDifferently(e)) return true;
    }
    return false;
  }
  for (const key in v) {
    const e = v[key];
    if (typeof e === 'object' ? e !== null && holdsDifferent(e as Json, depth + 1) : readsDifferently(e)) return true;
  }
  return false;
}

/**
 * `groups` as the official convertUserToEvaluationContext reads it (for each
 * of `Object.keys(groups)`: `names[0]` when `names && names.length > 0 &&
 * names[0]`), written as one-name arrays; undefined when it already is an
 * object of arrays.
 */
function officialGroups(groups: unknown): Json | undefined {
  if (!groups) return undefined;
  if (typeof groups === 'object' && !Array.isArray(groups)) {
    let plain = true;
    for (const key in groups as Json) {
      const names = (groups as Json)[key];
      if (!Array.isArray(names) && names !== undefined && names !== null) plain = false;
    }
    if (plain) return undefined;
  }
  const out: Json = {};
  for (const type of Object.keys(groups)) {
    const names = (groups as Record<string, { length?: unknown; 0?: unknown } | undefined>)[type];
    if (names && (names.length as number) > 0 && names[0]) out[type] = [names[0]];
  }
  return out;
}

/**
 * `v` as JSON with every value JSON cannot hold tagged (see tagged()); at
 * depth 0 `groups` replaces the user's `groups` when given. A repeated
 * object (a cycle) or nesting past MAX_DEPTH becomes null, a throwing
 * toJSON null. `depth`: how deep `v` sits in the user.
 */
function writeTagged(
  v: unknown,
  depth: number,
  inArray: boolean,
  seen: Set<object>,
  groups: Json | undefined,
): string | undefined {
  const tag = tagged(v);
  if (tag !== undefined) return JSON.stringify(tag);
  if (v === null || typeof v !== 'object') return v === undefined && inArray ? 'null' : JSON.stringify(v);
  if (depth >= MAX_DEPTH || seen.has(v)) return 'null';
  seen.add(v);
  let out: string;
  if (Array.isArray(v)) {
    const elements: string[] = [];
    for (let i = 0; i < v.length; i++) elements.push(writeTagged(v[i], depth + 1, true, seen, undefined) ?? 'null');
    out = '[' + elements.join(',') + ']';
  } else {
    const members: string[] = [];
    for (const key of Object.keys(v)) {
      const member = depth === 0 && key === 'groups' && groups !== undefined ? groups : (v as Json)[key];
      let written = writeTagged(member, depth + 1, false, seen, undefined);
      if (written === undefined && depth === 0 && member === undefined) written = JSON.stringify(UNDEFINED_TAG);
      if (written !== undefined) members.push(JSON.stringify(key) + ':' + written);
    }
    out = '{' + members.join(',') + '}';
  }
  seen.delete(v);
  return out;
}

/** The user in tagged form (see tagged()), with `groups` replaced when given. */
function taggedJson(user: Json, groups: Json | undefined): string {
  return '!' + (writeTagged(user, 0, false, new Set(), groups) ?? '');
}

/**
 * Values read out of a user (src/engine/slot-values.ts) as the JSON array the
 * native engine takes with them: plain JSON when every value is one JSON
 * holds faithfully, else the tagged form; `depths[i]` is how deep values[i]
 * sits in the user (nesting is cut where the whole user's would be). Throws
 * what JSON.stringify throws.
 */
export function valuesJson(values: unknown[], depths: readonly number[]): string {
  let plain = true;
  for (let i = 0; i < values.length && plain; i++) {
    const v = values[i];
    // (Strings that look like tags need one only in the tagged form.)
    plain = typeof v === 'object' ? v === null || !holdsDifferent(v as Json, depths[i]) : !readsDifferently(v);
  }
  if (plain) return JSON.stringify(values);
  const seen = new Set<object>();
  return '![' + values.map((v, i) => writeTagged(v, depths[i], true, seen, undefined) ?? 'null').join(',') + ']';
}

/**
 * The user's JSON for the native engine ('' for none). `warn` is told when a
 * user cannot be read at all (a throwing getter): it is then evaluated
 * without properties.
 */
/** What both engines log for a user they cannot read (a throwing getter or Proxy trap): they evaluate it as empty. */
export function unreadableUserMessage(err: unknown): string {
  return `a user object cannot be read (${errorMessage(err)}); it is evaluated as if it had no properties`;
}

export function userJson(user: ExperimentUser | undefined, warn: (message: string) => void): string {
  if (user === undefined || user === null) return '';
  let json: string | undefined;
  try {
    json = JSON.stringify(user);
  } catch {
    // A cycle, a BigInt or nesting deeper than V8's stack: the careful writer below.
  }
  try {
    const groups = officialGroups((user as Json).groups);
    if (json !== undefined && groups === undefined && !needsTaggedJson(user as Json)) return json;
    return taggedJson(user as Json, groups);
  } catch (err) {
    warn(unreadableUserMessage(err));
    return '';
  }
}
