/**
 * evaluateV2Details against evaluateV2 on the differential test's generated cases (fuzz and realistic profiles):
 * the same flags with the same variant objects, a segment index consistent with the trace, and bucketing numbers
 * recomputed here from murmur3. Plus hand-written cases for each reason.
 */
import { describe, expect, it } from 'vitest';
import { loadEngine, loadNativeAddon } from '../../src/engine';
import { createJsEngine } from '../../src/engine/js-engine';
import type { FlagSnapshot } from '../../src/engine/types';
import { explainSnapshot } from '../../src/engine/details';
import { LocalEvaluationClient } from '../../src/local/client';
import type { ExperimentUser } from '../../src/types';
import { itNative } from '../support/engine';
import { deriveSeed, generateCase, Rng } from '../support/generator';

const engine = loadEngine();
const murmur3 = (text: string): number => loadNativeAddon().internals.murmur3(text, 0);

/**
 * Checks one evaluation; a mismatch is recorded in `problems` (with the flag
 * key) rather than thrown by `expect`, whose per-call cost dominated this
 * test's ~170,000 comparisons. The caller asserts that `problems` is empty.
 */
function checkAgreement(
  snap: FlagSnapshot,
  user: ExperimentUser | undefined,
  keys: string[] | undefined,
  problems: string[],
): number {
  const variants = snap.evaluate(user, keys);
  const details = explainSnapshot(snap, user, keys, () => false);
  const is = (actual: unknown, expected: unknown, what: string): void => {
    if (!Object.is(actual, expected)) problems.push(`${what}: ${String(actual)} is not ${String(expected)}`);
  };
  const withVariant = Object.keys(details).filter((k) => details[k].variant !== undefined);
  is(JSON.stringify(withVariant), JSON.stringify(Object.keys(variants)), 'flags with a variant');
  let checked = 0;
  for (const [key, d] of Object.entries(details)) {
    if (d.reason === 'UNEXPLAINED') problems.push(`${key}: reason UNEXPLAINED`);
    if (d.variant === undefined) {
      is(d.reason, 'NO_MATCH', `${key}: reason without a variant`);
      is(d.segmentIndex, -1, `${key}: segmentIndex without a variant`);
      is(
        d.segments.every((s) => s.variant === undefined),
        true,
        `${key}: no segment names a variant`,
      );
      continue;
    }
    is(d.variant, variants[key], `${key}: the same variant object as evaluateV2`);
    // The trace stops at the segment that gave the variant, and names the same variant.
    is(d.segmentIndex, d.segments.length - 1, `${key}: segmentIndex is the last traced segment`);
    const chosen = d.segments[d.segmentIndex];
    is(chosen.matched, true, `${key}: the chosen segment matched`);
    // The variants map key; the variant object carries the config's own `key` field (which may differ).
    const config = snap.flag(key) as { variants: Record<string, { key?: string }> };
    if (chosen.variant === undefined) {
      problems.push(`${key}: the chosen segment names no variant`);
      continue;
    }
    is(d.variant.key, config.variants[chosen.variant].key, `${key}: variant key from the config`);
    for (const s of d.segments.slice(0, -1)) is(s.variant, undefined, `${key}: an earlier segment names a variant`);
    const b = chosen.bucket;
    if (b && b.value !== null) {
      const hash = murmur3(`${b.salt}/${b.value}`);
      is(b.hash, hash, `${key}: bucket hash`);
      is(b.allocationValue, hash % 100, `${key}: allocation value`);
      is(b.distributionValue, Math.floor(hash / 100), `${key}: distribution value`);
    }
    checked++;
  }
  return checked;
}

describe('evaluateV2Details', () => {
  // The trace (reasons, segment indexes) comes from the native engine; the JS fallback explains nothing.
  itNative.each(['fuzz', 'realistic'] as const)('agrees with evaluateV2 on generated cases (%s profile)', (profile) => {
    expect(engine.kind).toBe('native');
    const rng = new Rng(deriveSeed(20240607, profile === 'fuzz' ? 1 : 2));
    let checked = 0;
    const problems: string[] = [];
    for (let i = 0; i < 60; i++) {
      const c = generateCase(rng.u32(), rng.int(1, 40), 12, { profile });
      const snap = engine.load(JSON.stringify(c.flags));
      c.users.forEach((user, u) => {
        checked += checkAgreement(snap, user, undefined, problems);
        checked += checkAgreement(snap, user, c.keySubsets[u], problems);
      });
    }
    expect(problems.slice(0, 20)).toEqual([]);
    expect(checked).toBeGreaterThan(1000);
  });

  it('on the JS fallback engine: the same variants, reason UNEXPLAINED', () => {
    const c = generateCase(deriveSeed(20240607, 3), 20, 8, { profile: 'realistic' });
    const snap = createJsEngine().load(JSON.stringify(c.flags));
    expect(snap.explain).toBeUndefined();
    for (const user of c.users) {
      const variants = snap.evaluate(user);
      const details = explainSnapshot(snap, user, undefined, () => false);
      expect(Object.keys(details)).toEqual(Object.keys(variants));
      for (const [k, d] of Object.entries(details)) {
        expect(d.reason).toBe('UNEXPLAINED');
        expect(d.variant).toEqual(variants[k]);
      }
    }
  });

  itNative('gives each reason with the segment, conditions, bucketing and dependency', () => {
    const flags = [
      {
        key: 'holdout',
        segments: [
          {
            metadata: { segmentName: 'All Other Users' },
            bucket: {
              selector: ['context', 'user', 'device_id'],
              salt: 'h',
              allocations: [{ range: [0, 100], distributions: [{ variant: 'holdout', range: [0, 42949673] }] }],
            },
          },
        ],
        variants: { holdout: { key: 'holdout', value: 'holdout' } },
      },
      {
        key: 'exp',
        metadata: { flagType: 'experiment', flagVersion: 3 },
        dependencies: ['holdout'],
        segments: [
          {
            metadata: { segmentName: 'Holdout' },
            conditions: [[{ selector: ['result', 'holdout', 'key'], op: 'is', values: ['holdout'] }]],
            variant: 'off',
          },
          {
            metadata: { segmentName: 'Cohort' },
            conditions: [[{ selector: ['context', 'user', 'cohort_ids'], op: 'set contains any', values: ['c1'] }]],
            variant: 'on',
          },
          {
            metadata: { segmentName: 'Beta' },
            conditions: [
              [{ selector: ['context', 'user', 'country'], op: 'is', values: ['FR'] }],
              [
                { selector: ['context', 'user', 'user_properties', 'plan'], op: 'is', values: ['pro'] },
                { selector: ['context', 'user', 'platform'], op: 'is not', values: ['Android'] },
              ],
            ],
            variant: 'on',
          },
          {
            metadata: { segmentName: 'All Other Users' },
            bucket: {
              selector: ['context', 'user', 'user_id'],
              salt: 's',
              allocations: [{ range: [0, 50], distributions: [{ variant: 'on', range: [0, 42949673] }] }],
            },
            variant: 'off',
          },
        ],
        variants: { on: { key: 'on', value: 'on' }, off: { key: 'off', metadata: { default: true } } },
      },
    ];
    const client = new LocalEvaluationClient('k', { bootstrap: flags });
    // A device in the holdout: decided by the dependency.
    const inHoldout = client.evaluateV2Details({ device_id: 'd1', user_id: 'u' }, ['exp']);
    expect(Object.keys(inHoldout)).toEqual(['holdout', 'exp']);
    expect(inHoldout.holdout.reason).toBe('SPLIT');
    expect(inHoldout.exp).toMatchObject({
      reason: 'DEPENDENCY',
      segmentIndex: 0,
      segmentName: 'Holdout',
      dependency: { flagKey: 'holdout', variant: 'holdout' },
      flagMetadata: { flagType: 'experiment', flagVersion: 3 },
    });
    expect(inHoldout.exp.variant?.key).toBe('off');

    // No device: no holdout result; cohort c1 is not loaded (no cohort sync), so 'Cohort' fails; the second
    // OR-group of 'Beta' matches.
    const pro = client.evaluateV2Details({ user_id: 'u', user_properties: { plan: 'pro' }, platform: 'iOS' }, ['exp']);
    expect(pro.holdout.reason).toBe('NO_MATCH');
    expect(pro.exp.reason).toBe('TARGETING_MATCH');
    expect(pro.exp.segmentName).toBe('Beta');
    expect(pro.exp.segments[0].conditionGroups[0][0]).toMatchObject({ matched: false, actual: null });
    expect(pro.exp.segments[1].conditionGroups[0][0]).toMatchObject({ matched: false, actual: [] });
    expect(pro.exp.segments[2].conditionGroups[0]).toEqual([
      { selector: ['context', 'user', 'country'], op: 'is', values: ['FR'], matched: false, actual: null },
    ]);
    expect(pro.exp.matchedConditions?.map((c) => c.actual)).toEqual(['pro', 'iOS']);
    expect(pro.exp.missingCohorts).toEqual(['c1']);

    // Everyone else: bucketed on user_id in the catch-all segment.
    const seen = new Set<string>();
    for (let i = 0; i < 200 && seen.size < 2; i++) {
      const d = client.evaluateV2Details({ user_id: `user-${i}` }, ['exp']).exp;
      seen.add(d.reason);
      expect(d.segmentIndex).toBe(3);
      expect(d.bucket?.value).toBe(`user-${i}`);
      const inAllocation = d.bucket!.allocationValue! < 50;
      expect(d.reason).toBe(inAllocation ? 'SPLIT' : 'DEFAULT');
      expect(d.variant?.key).toBe(inAllocation ? 'on' : 'off');
      expect(d.variant).toBe(client.evaluateV2({ user_id: `user-${i}` }, ['exp']).exp);
    }
    expect(seen).toEqual(new Set(['SPLIT', 'DEFAULT']));
    void client.close();
  });
});
