import { describe, expect, it } from 'vitest';
import { LocalEvaluationClient } from '../../src/local/client';
import { TestData } from '../../src/testing/test-data';
import { closeClientsAfterEach, track } from '../support';
import { officialEvaluate } from '../support/official';

closeClientsAfterEach();
function client(td: TestData): LocalEvaluationClient {
  return track(new LocalEvaluationClient('test-key', { dataSource: td }));
}

describe('TestData', () => {
  it('serves rules, individual targets and the fallthrough; start() resolves at once', async () => {
    const td = new TestData();
    td.update(
      td
        .flag('checkout')
        .variations('control', 'treatment')
        .forUser(['ada', 'grace'], 'treatment')
        .ifMatch('country', 'is', ['France'], 'control', 'French users')
        .fallthroughVariation('control'),
    );
    const c = client(td);
    await c.start();
    expect(c.evaluateV2({ user_id: 'ada' }).checkout).toMatchObject({ key: 'treatment', value: 'treatment' });
    expect(c.evaluateV2({ user_id: 'x', country: 'France' }).checkout.key).toBe('control');
    expect(c.evaluateV2({ user_id: 'x' }).checkout.key).toBe('control');
  });

  it('update() reaches every client synchronously; off serves the default variant; delete removes', () => {
    const td = new TestData();
    td.update(td.flag('f').booleanFlag());
    const a = client(td);
    const b = client(td);
    expect(a.evaluateV2({ user_id: 'u' }).f).toMatchObject({ key: 'on', value: 'on' });
    td.update(td.flag('f').off());
    for (const c of [a, b]) {
      const off = c.evaluateV2({ user_id: 'u' }).f;
      expect(off.key).toBe('off');
      expect(off.value).toBeUndefined();
      expect(off.metadata?.default).toBe(true);
    }
    td.update(td.flag('f').on());
    expect(b.evaluateV2({ user_id: 'u' }).f.key).toBe('on');
    td.delete('f');
    expect(a.evaluateV2({ user_id: 'u' })).toEqual({});
  });

  it('rollout() splits by weight the way the official engine buckets the generated config', () => {
    const td = new TestData();
    td.update(td.flag('exp').variations('a', 'b').rollout({ a: 1, b: 3 }, { bucketBy: 'user_id', salt: 's1' }));
    const c = client(td);
    const counts: Record<string, number> = { a: 0, b: 0 };
    for (let i = 0; i < 2000; i++) {
      const user = { user_id: `user-${i}` };
      const key = c.evaluateV2(user).exp.key!;
      counts[key]++;
      if (i < 200) {
        // Same answer as @amplitude/experiment-node-server on the same config: the config is real.
        expect((officialEvaluate(td.configs(), user) as Record<string, { key: string }>).exp.key).toBe(key);
      }
    }
    // 25% / 75% with 2000 users: far outside these bounds only if the ranges were wrong.
    expect(counts.a).toBeGreaterThan(400);
    expect(counts.a).toBeLessThan(600);
    expect(counts.a + counts.b).toBe(2000);
  });

  it('variations with JSON values and payloads, dependencies, and raw configs', () => {
    const td = new TestData();
    td.update(
      td.flag('holdout').variations('in').rollout({ in: 1 }, { percentage: 0 }),
      td
        .flag('banner')
        .variations({ big: { value: { size: 3 }, payload: { color: 'red' } } })
        .dependsOn('holdout')
        .ifMatch(['result', 'holdout', 'key'], 'is not', ['in'], 'big')
        .fallthroughVariation('off'),
    );
    td.updateRaw({ key: 'raw', segments: [{ variant: 'x' }], variants: { x: { key: 'x', value: 'raw-x' } } });
    const c = client(td);
    const v = c.evaluateV2({ user_id: 'u', device_id: 'd' }, ['banner', 'raw']);
    expect(Object.keys(v).sort()).toEqual(['banner', 'holdout', 'raw']);
    expect(v.banner.value).toBe('{"size":3}');
    expect(v.banner.payload).toEqual({ color: 'red' });
    expect(v.raw.value).toBe('raw-x');
  });

  it('rejects a rule that names an unknown variation, leaving the flags as they were', () => {
    const td = new TestData();
    td.update(td.flag('f').booleanFlag());
    expect(() => td.update(td.flag('f').forUser('u', 'nope'))).toThrow(/"nope" is not one of its variations/);
    expect(td.configs()[0].segments).toHaveLength(1);
  });
});
