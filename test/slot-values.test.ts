/**
 * The native engine's one-flag and all-flags calls send only the values the flags' selectors read
 * (src/engine/slot-values.ts). Every selector shape against users a JavaScript caller can build (prototype-less,
 * class instances, non-finite numbers, Dates, functions, odd `groups` shapes, own `__proto__` keys...) must give
 * the official engine's answer, and the reader must decline exactly where it cannot reproduce it.
 */
import { describe, expect, it } from 'vitest';
import { loadEngine } from '../src/engine';
import { SlotCells, type SlotPlan, SlotPlanner } from '../src/engine/slot-values';
import type { ExperimentUser } from '../src/types';
import { describeNative } from './support/engine';
import { ReferenceEvaluator } from './support/reference';

const SELECTORS: string[][] = [
  ['context', 'user', 'user_id'],
  ['context', 'user', 'name'],
  ['context', 'user', 'length'],
  ['context', 'user', 'user_properties', 'a'],
  ['context', 'user', 'user_properties', 'arr', '0'],
  ['context', 'user', 'user_properties', 'arr', 'length'],
  ['context', 'user', 'user_properties', 'a', 'getTime'],
  ['context', 'user', 'user_properties', '__proto__'],
  ['context', 'user', 'user_properties', 'missing'],
  ['context', 'user', 'user_properties'],
  ['context', 'user', 'created'],
  ['context', 'user'],
  ['context', 'user', 'groups'],
  ['context', 'groups'],
  ['context', 'groups', 'org'],
  ['context', 'groups', 'org', 'group_name'],
  ['context', 'groups', 'org', 'group_name', 'length'],
  ['context', 'groups', 'org', 'group_properties'],
  ['context', 'groups', 'org', 'group_properties', 'plan'],
  ['context', 'groups', 'org', 'group_properties', '0'],
  ['context', 'groups', 'org', 'cohort_ids'],
  ['context', 'groups', 'org', 'other'],
  ['context', 'groups', 'team', 'group_name'],
  ['context', 'other'],
];

/** Conditions whose outcomes together reveal the value's string, list and emptiness; then a bucket on it. */
function flagsFor(selector: string[], i: number): Record<string, unknown> {
  const variants: Record<string, { key: string }> = {};
  const distributions = [];
  for (let v = 0; v < 16; v++) {
    variants[`v${v}`] = { key: `v${v}` };
    distributions.push({ variant: `v${v}`, range: [v * 268435456, (v + 1) * 268435456] });
  }
  variants.on = { key: 'on' };
  variants.set = { key: 'set' };
  variants.none = { key: 'none' };
  return {
    key: `f${i}`,
    variants,
    segments: [
      { conditions: [[{ selector, op: 'is', values: ['(none)'] }]], variant: 'none' },
      { conditions: [[{ selector, op: 'contains', values: ['a', 'N', '{'] }]], variant: 'on' },
      { conditions: [[{ selector, op: 'set contains any', values: ['a', 'x'] }]], variant: 'set' },
      {
        bucket: { selector, salt: `s${i}`, allocations: [{ range: [0, 100], distributions }] },
        variant: 'none',
      },
    ],
  };
}

class Account {
  user_id = 'class-user';
}
class Props {
  get a(): string {
    return 'from a getter';
  }
}

function users(): Array<[string, unknown]> {
  const base = () => ({
    user_id: 'u1',
    name: 'n',
    user_properties: { a: 'xa', arr: ['a', 'b'] },
    groups: { org: ['acme'] },
    group_properties: { org: { acme: { plan: 'pro' } } },
    group_cohort_ids: { org: { acme: ['c1'] } },
  });
  const nullProto = Object.assign(Object.create(null) as Record<string, unknown>, base());
  return [
    ['plain', base()],
    ['prototype-less', nullProto],
    ['class instance', new Account()],
    ['getter on a property object', { user_id: 'g', user_properties: new Props() }],
    ['non-finite numbers', { user_id: NaN, user_properties: { a: Infinity, arr: [NaN, 'a', -Infinity] } }],
    ['Dates', { user_id: 'd', created: new Date(0), user_properties: { a: new Date(86400000), arr: [new Date(1)] } }],
    ['functions and symbols', { user_id: () => 1, name: Symbol('s'), user_properties: { a: function named() {} } }],
    ['BigInt', { user_id: 12n, user_properties: { a: 5n } }],
    ['tag-like strings', { user_id: '\u0000t3:abc', user_properties: { a: '\u0000u', arr: ['\u0000f0:'] } }],
    ['explicit undefined', { user_id: undefined, name: 'x' }],
    [
      // The official's context.user copies own enumerable fields only; deeper objects are read as they are.
      'non-enumerable fields',
      Object.defineProperty(
        { user_id: 'ne', user_properties: Object.defineProperty({ arr: ['a'] }, 'a', { value: 'xa', enumerable: false }) },
        'name',
        { value: 'hidden', enumerable: false },
      ),
    ],
    ['only undefined', { user_id: undefined }],
    ['only groups', { groups: { org: ['acme'] } }],
    ['empty', {}],
    ['own __proto__', JSON.parse('{"__proto__":{"user_id":"p"},"user_id":"u"}')],
    ['length field', { length: 3, user_id: 'l' }],
    ['two group names', { groups: { org: ['acme', 'other'], team: ['t'] } }],
    ['empty group names', { groups: { org: [] } }],
    ['falsy group name', { groups: { org: [''] } }],
    ['group name string', { groups: { org: 'acme' } }],
    ['group name number', { groups: { org: [5] }, group_properties: { org: { 5: { plan: 'num' } } } }],
    ['group name object', { groups: { org: [{ a: 1 }] } }],
    ['groups array', { groups: [['acme']] }],
    ['groups string', { groups: 'org' }],
    ['group properties string', { groups: { org: ['acme'] }, group_properties: { org: { acme: 'str' } } }],
    ['group properties number', { groups: { org: ['acme'] }, group_properties: { org: { acme: 7 } } }],
    ['group properties empty', { groups: { org: ['acme'] }, group_properties: { org: { acme: {} } } }],
    ['group properties array', { groups: { org: ['acme'] }, group_properties: { org: { acme: ['a', 'b'] } } }],
    ['group properties by type string', { groups: { org: ['acme'] }, group_properties: { org: 'acme' } }],
    ['group properties Date', { groups: { org: ['acme'] }, group_properties: { org: { acme: new Date(2) } } }],
    ['group properties NaN', { groups: { org: ['acme'] }, group_properties: { org: { acme: { plan: NaN } } } }],
    ['cohort ids string', { groups: { org: ['acme'] }, group_cohort_ids: { org: { acme: 'c' } } }],
    ['user_properties array', { user_id: 'x', user_properties: ['a', 'b'] }],
    ['user_properties string', { user_id: 'x', user_properties: 'abc' }],
  ];
}

describeNative('slot values: only what the flags read crosses to the native engine', () => {
  const flags = SELECTORS.map(flagsFor);
  const payload = JSON.stringify(flags);
  const engine = loadEngine();
  const snap = engine.load(payload);
  const reference = new ReferenceEvaluator(payload);
  // A flag reading a prototype member of context.user: its own calls and the all-flags call send the whole user.
  const withPrototypeRead = JSON.stringify([...flags, flagsFor(['context', 'user', 'toString'], SELECTORS.length)]);
  const declined = engine.load(withPrototypeRead);
  const declinedReference = new ReferenceEvaluator(withPrototypeRead);

  it('loads every flag', () => {
    expect(snap.rejected).toEqual([]);
    expect(snap.size).toBe(SELECTORS.length);
    expect(declined.size).toBe(SELECTORS.length + 1);
  });

  for (const [name, user] of users()) {
    it(`${name}: one flag at a time and all flags answer as the official engine`, () => {
      const u = user as ExperimentUser;
      let checked = 0;
      const calls: Array<[typeof snap, ReferenceEvaluator, string[] | undefined]> = [
        ...flags.map((f): [typeof snap, ReferenceEvaluator, string[]] => [snap, reference, [f.key as string]]),
        [snap, reference, undefined],
        [declined, declinedReference, [`f${SELECTORS.length}`]],
      ];
      for (const [snapshot, ref, keys] of calls) {
        let expected;
        try {
          expected = ref.evaluate(u, keys).variants;
        } catch {
          continue; // the official engine throws on this user (a BigInt in a container it reads whole)
        }
        const actual = snapshot.evaluate(u, keys);
        expect(Object.keys(actual), `${JSON.stringify(keys)}`).toEqual(Object.keys(expected));
        expect(actual, `${JSON.stringify(keys)}`).toStrictEqual(expected);
        checked++;
      }
      expect(checked).toBeGreaterThan(0);
    });
  }
});

/** The '#' argument a plan sends for `user` (its values as JSON), or undefined where it declines. */
function read(plan: SlotPlan | null | undefined, user: object): string | undefined {
  const values = plan?.values(user);
  return values === undefined ? undefined : plan!.json(values);
}

describe('SlotPlanner', () => {
  // A trie of three slots: user (0) -> user.a (1); groups (2) -> groups.org (3) -> groups.org.group_name (4)
  const planner = new SlotPlanner([-1, 0, -1, 2, 3], ['user', 'a', 'groups', 'org', 'group_name']);

  it('sends the values read, in slot order, as one JSON array', () => {
    const plan = planner.plan([1, 4]);
    expect(read(plan, { a: 'x', b: 'unread', groups: { org: ['acme'] } })).toBe('#["x","acme"]');
    expect(read(plan, { groups: { org: [] } })).toBe('#[null,null]');
  });

  it('the compiled reader and the interpreted ops (used where code generation is disabled) agree', () => {
    const full = new SlotPlanner(
      [-1, 0, 1, -1, 3, 4, 4, 6, -1, 4],
      ['user', 'user_properties', 'a', 'groups', 'org', 'group_name', 'group_properties', 'plan', 'other', 'cohort_ids'],
    );
    const plan = full.plan([2, 1, 0, 5, 7, 6, 4, 3, 8, 9])!;
    expect(typeof (plan as unknown as { compiled: unknown }).compiled).toBe('function');
    const interpreted = Object.assign(Object.create(Object.getPrototypeOf(plan) as object) as object, plan, {
      compiled: undefined,
    }) as typeof plan;
    let sent = 0;
    for (const [name, user] of users()) {
      const text = read(plan, user as object);
      expect(read(interpreted, user as object), name).toBe(text);
      if (text !== undefined) sent++;
    }
    expect(sent).toBeGreaterThan(20);
  });

  it("reads what an object lacks through the object's own prototype, asking for the prototype once", () => {
    const props = new SlotPlanner([-1, 0, 1, 1, 1, 1], ['user', 'user_properties', 'own', 'inherited', 'missing', 'computed']);
    const plan = props.plan([2, 3, 4, 5])!;
    const interpreted = Object.assign(Object.create(Object.getPrototypeOf(plan) as object) as object, plan, {
      compiled: undefined,
    }) as typeof plan;
    const base = {
      inherited: 'from the prototype',
      get computed(): string {
        return `computed for ${(this as unknown as { own: string }).own}`;
      },
    };
    let asked = 0;
    const proxied = new Proxy(Object.assign(Object.create(base) as object, { own: 'p' }), {
      getPrototypeOf: (target) => {
        asked++;
        return Reflect.getPrototypeOf(target);
      },
    });
    const cases: Array<[string, object, unknown[]]> = [
      ['plain', { own: 'o' }, ['o', undefined, undefined, undefined]],
      [
        'class-like',
        Object.assign(Object.create(base) as object, { own: 'c' }),
        ['c', 'from the prototype', undefined, 'computed for c'],
      ],
      [
        'prototype-less',
        Object.assign(Object.create(null) as object, { own: 'n', missing: 'm' }),
        ['n', undefined, 'm', undefined],
      ],
      ['Proxy', proxied, ['p', 'from the prototype', undefined, 'computed for p']],
    ];
    for (const [name, userProperties, expected] of cases) {
      asked = 0;
      expect(plan.values({ user_properties: userProperties }), name).toEqual(expected);
      if (name === 'Proxy') expect(asked).toBe(1);
      expect(interpreted.values({ user_properties: userProperties }), name).toEqual(expected);
    }
  });

  it('tags values JSON cannot hold', () => {
    const text = read(planner.plan([1]), { a: NaN });
    expect(text?.startsWith('#![')).toBe(true);
    expect(text).toContain('NaN');
  });

  it('declines the whole context, prototype member names, and users it cannot read as the official does', () => {
    expect(planner.plan([-1])).toBeUndefined();
    expect(new SlotPlanner([-1, 0], ['user', 'constructor']).plan([1])).toBeUndefined();
    const plan = planner.plan([1, 4])!;
    expect(read(plan, new Account())).toBeUndefined();
    expect(read(plan, { groups: { org: 'acme' } })).toBeUndefined();
    expect(read(plan, { groups: { org: [7] } })).toBeUndefined();
    expect(
      read(plan, {
        get a(): string {
          throw new Error('getter');
        },
      }),
    ).toBeUndefined();
  });
});

describe('SlotCells', () => {
  it('writes strings, finite numbers, booleans, null and arrays of them as (kind, x) pairs and one text', () => {
    const cells = new Float64Array(32);
    const writer = new SlotCells(cells);
    const text = writer.write(['ab', 1.5, true, false, null, undefined, ['x', 2, null, undefined], '', 'ü😀']);
    expect(text).toBe('abxü😀');
    expect(writer.pairs).toBe(13);
    expect(Array.from(cells.subarray(0, 26))).toEqual([
      4, 2, 3, 1.5, 2, 0, 1, 0, 0, 0, 0, 0, 5, 4, 4, 1, 3, 2, 0, 0, 0, 0, 4, 0, 4, 3,
    ]);
  });

  it('leaves to the JSON form what JSON would change, objects, nested arrays, toJSON, and what does not fit', () => {
    const writer = new SlotCells(new Float64Array(8));
    for (const value of [NaN, Infinity, 5n, () => 1, Symbol('s'), { a: 1 }, [['a']], [{}], [NaN], new Date(0)]) {
      expect(writer.write([value]), String(typeof value)).toBeUndefined();
    }
    const withToJson = Object.assign(['a'], { toJSON: () => 'b' });
    expect(writer.write([withToJson])).toBeUndefined();
    expect(writer.write(['a', 'b', 'c', 'd', 'e'])).toBeUndefined();
    expect(writer.write([['a', 'b', 'c', 'd']])).toBeUndefined();
    expect(writer.write(['a', 'b', 'c', 'd'])).toBe('abcd');
    // A Proxy reporting a length that is not a count.
    for (const length of [2.5, -1, 'x', Infinity]) {
      const odd = new Proxy(['a', 'b', 'c'], { get: (t, k) => (k === 'length' ? length : Reflect.get(t, k)) });
      expect(writer.write([odd]), String(length)).toBeUndefined();
    }
  });
});

describeNative('slot values as cells: arrays a caller can build', () => {
  const selector = ['context', 'user', 'user_properties', 'v'];
  const payload = JSON.stringify([flagsFor(selector, 0)]);
  const snap = loadEngine().load(payload);
  const reference = new ReferenceEvaluator(payload);
  const throwing = (): unknown[] => {
    const a = ['a', 'b'];
    Object.defineProperty(a, 1, {
      get() {
        throw new Error('element getter');
      },
    });
    return a;
  };
  const cases: Array<[string, () => unknown]> = [
    [
      'a Proxy with a fractional length',
      () => new Proxy(['a', 'b', 'c'], { get: (t, k) => (k === 'length' ? 2.5 : Reflect.get(t, k)) }),
    ],
    ['an element getter', () => Object.defineProperty(['a', 'x'], 1, { get: () => 'b', enumerable: true })],
    ['an element getter that throws', throwing],
  ];
  for (const [name, make] of cases) {
    it(`${name}: the official answer, or no throw where the official throws too`, () => {
      for (const keys of [undefined, ['f0']]) {
        const user = { user_properties: { v: make() } } as unknown as ExperimentUser;
        let expected: unknown;
        try {
          expected = reference.evaluate(user, keys).variants;
        } catch {
          expect(() => snap.evaluate(user, keys)).not.toThrow();
          continue;
        }
        expect(snap.evaluate(user, keys)).toStrictEqual(expected);
      }
    });
  }
});

describeNative('slot values: a getter that evaluates flags on the same snapshot', () => {
  // The key and cell buffers are shared by the snapshot's calls; a getter's own call must not change the outer answer.
  const flags = [
    flagsFor(['context', 'user', 'user_properties', 'v'], 0),
    flagsFor(['context', 'user', 'user_properties', 'w'], 1),
  ];
  const payload = JSON.stringify(flags);
  const snap = loadEngine().load(payload);
  const reference = new ReferenceEvaluator(payload);
  const inner = { user_properties: { v: ['inner', 'list', 'of', 'values'], w: 'z' } } as unknown as ExperimentUser;
  const makeUser = (): ExperimentUser => {
    const props = {
      get v(): unknown {
        snap.evaluate(inner, ['f1']);
        snap.evaluate(inner);
        return ['a', 'b'];
      },
      // Read while the cells are written.
      w: Object.defineProperty(['x', 'y'], 1, {
        get(): string {
          snap.evaluate(inner);
          return 'a';
        },
        enumerable: true,
      }),
    };
    return { user_id: 'outer', user_properties: props } as unknown as ExperimentUser;
  };
  for (const keys of [undefined, ['f0'], ['f1'], ['f0', 'f1']]) {
    it(`keys ${JSON.stringify(keys)}`, () => {
      const expected = reference.evaluate(makeUser(), keys).variants;
      expect(snap.evaluate(makeUser(), keys)).toStrictEqual(expected);
      const traced = snap.explain!(makeUser(), keys).map((t) => [t.flagKey, t.variant]);
      expect(traced).toStrictEqual(Object.entries(expected));
    });
  }
});

describeNative('slot values as cells and as JSON give the same answers', () => {
  // Each value through both transports: the cells (the usual path) and the JSON form (which the user with a NaN
  // beside it takes), on conditions and buckets that see the exact bytes.
  const selector = ['context', 'user', 'user_properties', 'v'];
  const flags = [flagsFor(selector, 0), flagsFor(['context', 'user', 'user_properties', 'n'], 1)];
  const payload = JSON.stringify(flags);
  const snap = loadEngine().load(payload);
  const reference = new ReferenceEvaluator(payload);
  const values: unknown[] = [
    'plain',
    '',
    'a\ud800b',
    '\udc00',
    '😀 ü 東京',
    '"quoted" \\ \n',
    -0,
    1e21,
    5e-324,
    0.1,
    true,
    null,
    ['a', '\ud83d', '', null, undefined, 3, false],
    [],
    // eslint-disable-next-line no-sparse-arrays -- a hole reads as undefined, JSON writes null
    ['x', , 'y'],
  ];
  for (const [i, v] of values.entries()) {
    it(`value ${i}: ${JSON.stringify(v)}`, () => {
      for (const user of [{ user_properties: { v } }, { user_properties: { v, n: NaN } }]) {
        for (const keys of [undefined, ['f0']]) {
          const expected = reference.evaluate(user as ExperimentUser, keys).variants;
          expect(snap.evaluate(user as ExperimentUser, keys)).toStrictEqual(expected);
        }
      }
    });
  }
});
