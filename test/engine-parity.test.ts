/**
 * The native engine and the JS fallback serve the same flags: generated configs with malformed pieces planted at
 * random places (a string where an object belongs, numbers in selectors, string ranges, ...) are loaded by both;
 * the left-out flags, the served keys and every answer must agree.
 */
import { describe, expect, it } from 'vitest';
import { createJsEngine } from '../src/engine/js-engine';
import { loadEngine } from '../src/engine';
import { generateCase, Rng } from './support/generator';

const CASES = Number(process.env.PARITY_CASES ?? 150);

/** What a malformed payload may hold where a value belongs. */
const ODD_VALUES: readonly unknown[] = [
  'x',
  '',
  5,
  0,
  -1,
  true,
  null,
  [],
  {},
  ['a', 'b'],
  [1, 'a'],
  ['context', 1],
  [0, 100],
  { a: 1 },
];

/** Every place (object member or array element) inside `root`, as [container, key]. */
function places(root: unknown): Array<[Record<string, unknown> | unknown[], string | number]> {
  const out: Array<[Record<string, unknown> | unknown[], string | number]> = [];
  const walk = (v: unknown): void => {
    if (Array.isArray(v)) {
      v.forEach((e, i) => {
        out.push([v, i]);
        walk(e);
      });
    } else if (v !== null && typeof v === 'object') {
      for (const [k, e] of Object.entries(v)) {
        out.push([v as Record<string, unknown>, k]);
        walk(e);
      }
    }
  };
  walk(root);
  return out;
}

/** Plant 1-3 odd values (or deletions) at random places of a flag, never its key. */
function damage(rng: Rng, flag: Record<string, unknown>): void {
  for (let n = rng.int(1, 3); n > 0; n--) {
    const candidates = places(flag).filter(([container, key]) => !(container === flag && key === 'key'));
    if (candidates.length === 0) return;
    const [container, key] = rng.pick(candidates);
    if (rng.chance(0.15) && !Array.isArray(container)) delete container[key as string];
    else (container as Record<string | number, unknown>)[key] = structuredClone(rng.pick(ODD_VALUES));
  }
}

describe('native and JS engines accept the same flags', () => {
  it(`${CASES} generated configs with malformed flags: same rejected flags, same keys, same answers`, () => {
    const native = loadEngine();
    expect(native.kind, 'the native engine must be loaded for this comparison').toBe('native');
    const js = createJsEngine();
    let rejectedSeen = 0;
    let servedSeen = 0;
    for (let i = 0; i < CASES; i++) {
      const c = generateCase(0x9a417 + i, 1 + (i % 12), 6);
      const rng = new Rng(0x51de + i);
      const flags = c.flags.map((f) => structuredClone(f) as unknown as Record<string, unknown>);
      for (const flag of flags) if (rng.chance(0.5)) damage(rng, flag);
      const payload = JSON.stringify(flags);
      const a = native.load(payload);
      const b = js.load(payload);
      const context = `case ${i}: ${payload.slice(0, 2000)}`;
      expect(a.rejected.map((r) => r.flagKey).sort(), context).toEqual(b.rejected.map((r) => r.flagKey).sort());
      expect(a.keys(), context).toEqual(b.keys());
      rejectedSeen += a.rejected.length;
      servedSeen += a.size;
      for (const user of c.users) {
        const got = JSON.parse(JSON.stringify(a.evaluate(user)));
        const want = JSON.parse(JSON.stringify(b.evaluate(user)));
        expect(got, `${context}\nuser ${JSON.stringify(user)}`).toEqual(want);
      }
    }
    // The damage must both break flags and leave flags served, or the comparison proves little.
    expect(rejectedSeen).toBeGreaterThan(CASES / 4);
    expect(servedSeen).toBeGreaterThan(CASES);
  });
});
