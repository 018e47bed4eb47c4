/**
 * Reading only what the requested flags read. A flag's selectors read a few
 * context paths (`context.user.country`, `context.groups.org.group_name`...);
 * when the flags of a call read nothing else, the values at those paths are
 * taken from the user here and sent as one small JSON array (a leading '#'),
 * instead of the whole user's JSON. The native engine fills its per-call
 * slot cache from it (Evaluator::setSlotValues).
 *
 * Each value is what the official `convertUserToEvaluationContext` plus its
 * `select` would give: `context.user` is an own-enumerable copy of the user
 * without `groups`, `group_properties` and `group_cohort_ids`; a group is
 * `{ group_name, group_properties?, cohort_ids? }` built from `groups[type][0]`.
 * Anything this reader does not reproduce exactly (a path through a
 * prototype member name or `length`, a selector reading a whole container
 * of the context, a user that is not a plain object, `groups` entries that
 * are not arrays or group names that are not strings, a getter that
 * throws...) makes it decline, and the call
 * sends the whole user as before.
 */
import { valuesJson } from './user-json';

/** What a step gives when the user needs the whole-user path. */
const DECLINE: Readonly<Record<string, never>> = Object.freeze({});
type Declined = typeof DECLINE;

const GROUP_KEYS = new Set(['groups', 'group_properties', 'group_cohort_ids']);

/**
 * Keys that reach Object.prototype on the context's own plain objects (the
 * context, its `user` copy, `groups` and each group): reading them is left to
 * the whole-user path. Below those levels the user's own values are read as
 * the official reads them, so any key is fine there.
 */
const PROTOTYPE_KEYS = new Set([...Object.getOwnPropertyNames(Object.prototype), '__proto__']);

const hasOwn = (o: object, key: string): boolean => Object.prototype.hasOwnProperty.call(o, key);
const isEnumerable = (o: object, key: string): boolean => Object.prototype.propertyIsEnumerable.call(o, key);

const enum Step {
  /** Constant: nothing there. */
  Missing,
  /** `user[key]` (context.user[key]). */
  UserProp,
  /** `value[key]` of an earlier step's value. */
  Prop,
  /** context.user: the user's own enumerable fields but the group ones. */
  User,
  /** The group name of type `key` (context.groups[key] exists iff there is one). */
  GroupName,
  /** context.groups[type].group_properties / .cohort_ids: from `user[source][type][name]`. */
  GroupMap,
  /** context.groups[key] as an object. */
  Group,
  /** context.groups as an object. */
  Groups,
}

interface Op {
  step: Step;
  /** The step whose value this one reads (Prop; GroupMap: the GroupName step). */
  from: number;
  key: string;
  /** GroupMap: `group_properties` or `group_cohort_ids`. */
  source: string;
}

type Json = Record<string, unknown>;

function isObject(v: unknown): v is Json {
  return typeof v === 'object' && v !== null;
}

/** `v && Object.keys(v).length > 0`, without building the array. */
function hasKeys(v: unknown): boolean {
  if (typeof v === 'string') return v.length > 0;
  if (!isObject(v) && typeof v !== 'function') return false;
  for (const key in v as Json) if (hasOwn(v, key)) return true;
  return false;
}

/** The name of the user's group of this type (a string), undefined when it has none, or DECLINE. */
function groupName(u: Json, type: string): unknown {
  const groups = u.groups;
  if (!groups) return undefined;
  if (typeof groups !== 'object' || Array.isArray(groups)) return DECLINE;
  if (!isEnumerable(groups, type)) return undefined;
  const names = (groups as Json)[type];
  if (!Array.isArray(names)) return DECLINE;
  const name: unknown = names[0];
  if (!name) return undefined;
  if (typeof name !== 'string') return DECLINE;
  return name;
}

/** `user[source]?.[type]?.[name]` when it has keys (as the official reads it), else undefined. */
function groupMap(u: Json, source: string, type: string, name: string): unknown {
  const byType = u[source] as Json | null | undefined;
  const byName = byType === undefined || byType === null ? undefined : (byType[type] as Json | null | undefined);
  const value = byName === undefined || byName === null ? undefined : byName[name];
  return hasKeys(value) ? value : undefined;
}

/** context.groups[type]: `{ group_name, group_properties?, cohort_ids? }`, undefined, or DECLINE. */
function groupObject(u: Json, type: string): unknown {
  const name = groupName(u, type);
  if (typeof name !== 'string') return name;
  const group: Json = { group_name: name };
  const properties = groupMap(u, 'group_properties', type, name);
  if (properties !== undefined) group.group_properties = properties;
  const cohorts = groupMap(u, 'group_cohort_ids', type, name);
  if (cohorts !== undefined) group.cohort_ids = cohorts;
  return group;
}

/** context.groups, undefined when empty, or DECLINE. */
function groupsObject(u: Json): unknown {
  const groups = u.groups;
  if (!groups) return undefined;
  if (typeof groups !== 'object' || Array.isArray(groups)) return DECLINE;
  const out: Json = {};
  let any = false;
  for (const type of Object.keys(groups)) {
    if (PROTOTYPE_KEYS.has(type)) return DECLINE;
    const group = groupObject(u, type);
    if (group === DECLINE) return DECLINE;
    if (group !== undefined) {
      out[type] = group;
      any = true;
    }
  }
  return any ? out : undefined;
}

/** context.user, undefined when it would have no keys, or DECLINE. */
function userObject(u: Json): unknown {
  if (hasOwn(u, '__proto__')) return DECLINE;
  const out: Json = {};
  let any = false;
  for (const key of Object.keys(u)) {
    if (GROUP_KEYS.has(key)) continue;
    out[key] = u[key];
    any = true;
  }
  return any ? out : undefined;
}

/**
 * The helpers a compiled reader calls (see compileReader). `field(u, key)`: whether context.user holds the
 * user's field `key`. The official's context.user is `Object.assign({}, user)`: the own enumerable fields.
 * Nearly every user has only enumerable ones, and hasOwnProperty is then the same answer, several times cheaper
 * than propertyIsEnumerable.
 */
function helpers(field: (o: object, key: string) => boolean) {
  return {
    DECLINE,
    userObject,
    groupName,
    groupMap,
    groupObject,
    groupsObject,
    field,
    has: hasOwn,
    proto: Object.getPrototypeOf as (o: object) => unknown,
    P: Object.prototype as Json,
  };
}
const HELPERS = helpers(hasOwn);
/** For a user with a non-enumerable own field (Object.defineProperty). */
const HELPERS_EXACT = helpers(isEnumerable);
type Reader = (u: Json, h: typeof HELPERS) => unknown[] | Declined;

/**
 * The ops as one function: straight-line code with the keys as literals
 * (about 3x faster than interpreting the ops). Undefined where code
 * generation is disabled; the ops are interpreted then.
 */
function compileReader(ops: readonly Op[], outputs: readonly number[]): Reader | undefined {
  // The objects Prop steps read keys other than Object.prototype's from: each gets its p<i> (see Step.Prop).
  const objects = new Set(ops.filter((op) => op.step === Step.Prop && !PROTOTYPE_KEYS.has(op.key)).map((op) => op.from));
  const reads = ops.map((op, i) => {
    const key = JSON.stringify(op.key);
    switch (op.step) {
      // A key the object lacks is read on Object.prototype (one shape, so V8 caches the miss) rather than on the
      // object: dozens of absent keys over many user shapes overflow V8's shared cache of misses otherwise.
      case Step.UserProp:
        return `const r${i} = h.field(u, ${key}) ? u[${key}] : h.P[${key}];`;
      case Step.Prop: {
        const from = `r${op.from}`;
        // Object.prototype's own members (the __proto__ accessor among them) are read on the object itself.
        if (PROTOTYPE_KEYS.has(op.key)) {
          return `const r${i} = typeof ${from} === 'object' && ${from} !== null ? ${from}[${key}] : undefined;`;
        }
        // p<from>: whether the object's prototype is not Object.prototype, asked on its first missing key only
        // (Object.getPrototypeOf is a call V8 does not inline here; once per object rather than per missing key).
        const other = `p${op.from}`;
        return (
          `const r${i} = typeof ${from} === 'object' && ${from} !== null ? (h.has(${from}, ${key}) || ` +
          `(${other} === undefined ? (${other} = h.proto(${from}) !== h.P) : ${other}) ? ${from}[${key}] : h.P[${key}]) : undefined;`
        );
      }
      case Step.User:
        return `const r${i} = h.userObject(u); if (r${i} === h.DECLINE) return r${i};`;
      case Step.GroupName:
        return `const r${i} = h.groupName(u, ${key}); if (r${i} === h.DECLINE) return r${i};`;
      case Step.GroupMap:
        return `const r${i} = typeof r${op.from} === 'string' ? h.groupMap(u, ${JSON.stringify(op.source)}, ${key}, r${op.from}) : undefined;`;
      case Step.Group:
        return `const r${i} = h.groupObject(u, ${key}); if (r${i} === h.DECLINE) return r${i};`;
      case Step.Groups:
        return `const r${i} = h.groupsObject(u); if (r${i} === h.DECLINE) return r${i};`;
      default:
        return `const r${i} = undefined;`;
    }
  });
  const lines = reads.map((line, i) => (objects.has(i) ? `${line}\nlet p${i};` : line));
  lines.push(`return [${outputs.map((o) => `r${o}`).join(', ')}];`);
  try {
    // eslint-disable-next-line @typescript-eslint/no-implied-eval -- straight-line reads; every key is a JSON.stringify'd literal
    return new Function('u', 'h', lines.join('\n')) as Reader;
  } catch {
    return undefined;
  }
}

/**
 * The reader for one list of slots: `values(user)` gives the values at those slots, or undefined to decline;
 * `json(values)` their '#' argument.
 */
export class SlotPlan {
  private readonly compiled: Reader | undefined;

  constructor(
    private readonly ops: readonly Op[],
    /** Which op gives the i-th value sent. */
    private readonly outputs: readonly number[],
    /** How deep each sent value sits in the user (user-json's nesting cut). */
    private readonly depths: readonly number[],
  ) {
    this.compiled = compileReader(ops, outputs);
  }

  /** The values at the plan's slots, in order, or undefined to decline (send the whole user). */
  values(user: object): unknown[] | undefined {
    try {
      const proto: unknown = Object.getPrototypeOf(user);
      if ((proto !== Object.prototype && proto !== null) || typeof (user as { toJSON?: unknown }).toJSON === 'function') {
        return undefined;
      }
      // (two counts of the same keys unless a field is not enumerable: about 12 ns; a Proxy's traps may throw)
      const h = Object.keys(user).length === Object.getOwnPropertyNames(user).length ? HELPERS : HELPERS_EXACT;
      const values = this.compiled !== undefined ? this.compiled(user as Json, h) : this.interpret(user as Json, h);
      return values === DECLINE ? undefined : (values as unknown[]);
    } catch {
      // A getter or trap threw: the whole-user path handles and reports it.
      return undefined;
    }
  }

  /** values() as the '#' argument (JSON), or undefined where JSON.stringify throws (a cycle, a BigInt). */
  json(values: unknown[]): string | undefined {
    try {
      return '#' + valuesJson(values, this.depths);
    } catch {
      return undefined;
    }
  }

  private interpret(u: Json, h: typeof HELPERS): unknown[] | Declined {
    const r = new Array<unknown>(this.ops.length);
    for (let i = 0; i < this.ops.length; i++) {
      const v = this.run(this.ops[i], u, r, h);
      if (v === DECLINE) return DECLINE;
      r[i] = v;
    }
    return this.outputs.map((o) => r[o]);
  }

  private run(op: Op, u: Json, r: unknown[], h: typeof HELPERS): unknown {
    switch (op.step) {
      case Step.UserProp:
        // context.user is a plain-object copy: what it lacks is read on Object.prototype.
        return h.field(u, op.key) ? u[op.key] : h.P[op.key];
      case Step.Prop: {
        const from = r[op.from];
        return isObject(from) ? from[op.key] : undefined;
      }
      case Step.User:
        return userObject(u);
      case Step.GroupName:
        return groupName(u, op.key);
      case Step.GroupMap: {
        const name = r[op.from];
        return typeof name === 'string' ? groupMap(u, op.source, op.key, name) : undefined;
      }
      case Step.Group:
        return groupObject(u, op.key);
      case Step.Groups:
        return groupsObject(u);
      default:
        return undefined;
    }
  }
}

const enum Cell {
  Null = 0,
  False = 1,
  True = 2,
  Number = 3,
  String = 4,
  Array = 5,
}

/**
 * Slot values without JSON, for the common case (Evaluator::setSlotCells):
 * each value a (kind, x) pair in a Float64Array shared with the addon, an
 * array's elements as the pairs after it, the strings concatenated into one
 * text (x: each one's length). Only values plain JSON would carry unchanged
 * are written: strings, finite numbers, booleans, null or undefined, and
 * arrays of those (no own toJSON); anything else gives undefined and the
 * call takes the JSON form.
 */
export class SlotCells {
  /** Pairs written by the last successful write(). */
  pairs = 0;

  /** cells.length as a small integer field (a typed array's length is a 64-bit count to the compiler). */
  private readonly capacity: number;

  constructor(private readonly cells: Float64Array) {
    this.capacity = cells.length;
  }

  /**
   * Fills the cells with `values`; returns the text, or undefined when the JSON form is needed. Throws what
   * an array's getters throw.
   */
  write(values: readonly unknown[]): string | undefined {
    const cells = this.cells;
    const capacity = this.capacity;
    let text = '';
    let at = 0;
    for (let i = 0; i < values.length; i++) {
      if (at + 2 > capacity) return undefined;
      const v = values[i];
      if (typeof v === 'object' && v !== null) {
        if (!Array.isArray(v) || typeof (v as { toJSON?: unknown }).toJSON === 'function') return undefined;
        // (A Proxy can report any length: what is not a plain count goes the JSON way.)
        const n = v.length;
        if (!Number.isInteger(n) || n < 0 || at + 2 * (n + 1) > capacity) return undefined;
        cells[at] = Cell.Array;
        cells[at + 1] = n;
        at += 2;
        for (let k = 0; k < n; k++) {
          const e: unknown = v[k];
          if (typeof e === 'string') {
            cells[at] = Cell.String;
            cells[at + 1] = e.length;
            text += e;
          } else if (!this.scalar(e, at)) {
            return undefined;
          }
          at += 2;
        }
        continue;
      }
      if (typeof v === 'string') {
        cells[at] = Cell.String;
        cells[at + 1] = v.length;
        text += v;
      } else if (!this.scalar(v, at)) {
        return undefined;
      }
      at += 2;
    }
    this.pairs = at / 2;
    return text;
  }

  /** A value that is neither a string nor an object; false when JSON would change it (NaN, a function...). */
  private scalar(v: unknown, at: number): boolean {
    const cells = this.cells;
    switch (typeof v) {
      case 'number':
        if (v - v !== 0) return false;
        cells[at] = Cell.Number;
        cells[at + 1] = v;
        return true;
      case 'boolean':
        cells[at] = v ? Cell.True : Cell.False;
        return true;
      case 'undefined':
        cells[at] = Cell.Null;
        return true;
      case 'object':
        // null (an array element object is not a scalar)
        if (v !== null) return false;
        cells[at] = Cell.Null;
        return true;
      default:
        return false;
    }
  }
}

/**
 * Plans for one snapshot's context slots (the trie of Snapshot::slotParent /
 * slotKey): the path of each slot, and a plan per list of slots.
 */
export class SlotPlanner {
  private readonly paths: string[][] = [];

  constructor(parents: readonly number[], keys: readonly string[]) {
    for (let i = 0; i < keys.length; i++) {
      const parent = parents[i];
      this.paths.push(parent < 0 ? [keys[i]] : [...this.paths[parent], keys[i]]);
    }
  }

  /** A plan sending the values of `slots` in this order, or undefined when some cannot be read this way. */
  plan(slots: readonly number[]): SlotPlan | undefined {
    const ops: Op[] = [];
    const byPath = new Map<string, number>();
    const outputs: number[] = [];
    const depths: number[] = [];
    const add = (id: string, step: Step, from = -1, key = '', source = ''): number => {
      let at = byPath.get(id);
      if (at === undefined) {
        at = ops.length;
        ops.push({ step, from, key, source });
        byPath.set(id, at);
      }
      return at;
    };
    /** Reads of `path[from..]` below the value of op `at` (the user's own values). */
    const below = (at: number, path: readonly string[], from: number, prefix: string): number => {
      for (let i = from; i < path.length; i++) at = add(prefix + path.slice(0, i + 1).join('\0'), Step.Prop, at, path[i]);
      return at;
    };
    for (const slot of slots) {
      // slot -1 (the whole context): the whole-user path.
      const path = slot >= 0 ? this.paths[slot] : undefined;
      if (path === undefined) return undefined;
      const [root, second, field] = path;
      // How deep the value sits in the user (where the whole user's JSON would cut nesting).
      let depth: number;
      let at: number;
      if (PROTOTYPE_KEYS.has(root)) return undefined;
      if (root === 'user') {
        if (path.length === 1) {
          at = add('u', Step.User);
          depth = 0;
        } else if (PROTOTYPE_KEYS.has(second)) {
          return undefined;
        } else if (GROUP_KEYS.has(second)) {
          at = add('-', Step.Missing);
          depth = 1;
        } else {
          at = below(add(`u\0${second}`, Step.UserProp, -1, second), path, 2, 'u\0');
          depth = path.length - 1;
        }
      } else if (root === 'groups') {
        if (path.length === 1) {
          at = add('g', Step.Groups);
          depth = 1;
        } else if (PROTOTYPE_KEYS.has(second)) {
          return undefined;
        } else if (path.length === 2) {
          at = add(`g\0${second}`, Step.Group, -1, second);
          depth = 2;
        } else if (field === 'group_name') {
          at = below(add(`n\0${second}`, Step.GroupName, -1, second), path, 3, `n\0${second}\0`);
          depth = path.length; // user.groups[type][0]...
        } else if (field === 'group_properties' || field === 'cohort_ids') {
          const source = field === 'group_properties' ? 'group_properties' : 'group_cohort_ids';
          const name = add(`n\0${second}`, Step.GroupName, -1, second);
          at = below(add(`m\0${second}\0${source}`, Step.GroupMap, name, second, source), path, 3, `m\0${second}\0${source}\0`);
          depth = path.length; // user[source][type][name]...
        } else if (PROTOTYPE_KEYS.has(field)) {
          return undefined;
        } else {
          at = add('-', Step.Missing);
          depth = 1;
        }
      } else {
        at = add('-', Step.Missing);
        depth = 1;
      }
      outputs.push(at);
      depths.push(depth);
    }
    return new SlotPlan(ops, outputs, depths);
  }
}
