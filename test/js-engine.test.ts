import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { EvaluationEngine, topologicalSort } from '@amplitude/experiment-core';
import { createJsEngine, userToContext } from '../src/engine/js-engine';
import { FlagPayloadError } from '../src/engine/types';
import { describeNativeLoadFailure, getDiagnosis, resetEngineSelection, selectEngine } from '../src/engine/diagnose';

const fixture = readFileSync(join(__dirname, 'fixtures', 'experiment-50-50.json'), 'utf8');
const engine = createJsEngine();

const on = { key: 'on', value: 'on' };
function flag(key: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { key, variants: { on }, segments: [{ variant: 'on' }], ...extra };
}
function cond(op: string, values: unknown[]): Record<string, unknown> {
  return { segments: [{ conditions: [[{ selector: ['context', 'user', 'user_id'], op, values }]], variant: 'on' }] };
}

describe('js engine', () => {
  it('gives the official SDK answers (experiment-core + evaluationVariantToVariant)', () => {
    const snapshot = engine.load(fixture);
    const record = Object.fromEntries(JSON.parse(fixture).map((f: { key: string }) => [f.key, f]));
    const users = [
      { user_id: 'u-premium', device_id: 'd-0', user_properties: { plan: 'premium' } },
      { device_id: 'd-1' },
      { device_id: 'd-2' },
      { user_id: 'no-device' },
      { user_id: 'g', groups: { org: ['acme'] }, group_properties: { org: { acme: { tier: 1 } } } },
      undefined,
    ];
    for (const user of users) {
      const official = new EvaluationEngine().evaluate(userToContext(user), topologicalSort(record));
      const expected: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(official)) {
        const value = typeof v.value === 'string' ? v.value : v.value == null ? undefined : JSON.stringify(v.value);
        expected[k] = { ...v, value };
      }
      expect(snapshot.evaluate(user)).toStrictEqual(expected);
    }
    expect(snapshot.evaluate({ device_id: 'd-2' }, ['flag-b'])).toMatchObject({
      'flag-a': { key: 'control', value: 'control' },
      'flag-b': { key: 'off', metadata: { segmentName: 'flag-dependencies', default: true } },
    });
    const v = snapshot.evaluate({}, ['json-value'])['json-value'];
    expect(v.value).toBe('{"n":1}');
    const off = snapshot.evaluate({ user_id: 'x' }, ['flag-a'])['flag-a'];
    expect(Object.prototype.hasOwnProperty.call(off, 'value')).toBe(true);
    expect(off.value).toBeUndefined();
  });

  it('returns requested flags plus dependencies; empty or absent = all; unknown keys absent', () => {
    const snapshot = engine.load(fixture);
    expect(Object.keys(snapshot.evaluate({ device_id: 'd-1' }, ['flag-b'])).sort()).toEqual(['flag-a', 'flag-b']);
    expect(Object.keys(snapshot.evaluate({ device_id: 'd-1' }, ['flag-a']))).toEqual(['flag-a']);
    expect(Object.keys(snapshot.evaluate({ device_id: 'd-1' }, [])).length).toBe(snapshot.size);
    expect(Object.keys(snapshot.evaluate({ device_id: 'd-1' })).length).toBe(snapshot.size);
    expect(snapshot.evaluate({ device_id: 'd-1' }, ['missing'])).toEqual({});
    expect(snapshot.keys().indexOf('flag-a')).toBeLessThan(snapshot.keys().indexOf('flag-b'));
    expect(snapshot.has('flag-a')).toBe(true);
    expect(snapshot.flag('flag-a')).toMatchObject({ key: 'flag-a' });
    expect(snapshot.flag('nope')).toBeUndefined();
  });

  it('leaves bad flags out with a reason and keeps the rest', () => {
    const payload = [
      flag('good'),
      { key: 'no-segments', variants: { on } },
      { key: 'no-variants', segments: [] },
      flag('segments-object', { segments: {} }),
      flag('number-value', cond('is', [1])),
      flag('bad-regex', cond('regex match', ['('])),
      flag('good-regex', cond('regex match', ['^a+$'])),
      flag('cycle-x', { dependencies: ['cycle-y'] }),
      flag('cycle-y', { dependencies: ['cycle-x'] }),
      flag('self', { dependencies: ['self'] }),
      flag('after-cycle', { dependencies: ['cycle-x', 'good'] }),
      flag('bad-bucket', { segments: [{ bucket: { selector: ['context'], salt: 's' }, variant: 'on' }] }),
      'not-an-object',
      { variants: {}, segments: [] },
    ];
    const snapshot = engine.load(JSON.stringify(payload));
    const reasons = Object.fromEntries(snapshot.rejected.map((r) => [r.flagKey, r.reason]));
    expect(Object.keys(reasons).sort()).toEqual(
      [
        '#12',
        '#13',
        'bad-bucket',
        'bad-regex',
        'cycle-x',
        'cycle-y',
        'no-segments',
        'no-variants',
        'number-value',
        'segments-object',
        'self',
      ].sort(),
    );
    expect(reasons['number-value']).toMatch(/string/);
    expect(reasons['bad-regex']).toMatch(/regex/);
    expect(reasons['cycle-x']).toMatch(/cycle/);
    expect(snapshot.keys().sort()).toEqual(['after-cycle', 'good', 'good-regex']);
    expect(snapshot.size).toBe(3);
    // a dependency that was left out behaves like a missing one
    expect(snapshot.evaluate({ user_id: 'aaa' })).toMatchObject({
      good: { key: 'on' },
      'good-regex': { key: 'on' },
      'after-cycle': { key: 'on' },
    });
  });

  it('rejects unusable payloads as a whole with FlagPayloadError', () => {
    expect(() => engine.load('{"key":1}')).toThrow(FlagPayloadError);
    expect(() => engine.load('[1,')).toThrow(FlagPayloadError);
    expect(() => engine.load(new TextEncoder().encode('null'))).toThrow(/JSON array/);
    expect(engine.load(new TextEncoder().encode(fixture)).size).toBe(4);
    expect(engine.load('[]').size).toBe(0);
  });

  it('never throws from evaluate, whatever the user', () => {
    const snapshot = engine.load(fixture);
    const circular: Record<string, unknown> = {};
    circular.self = circular;
    const hostile: unknown[] = [
      null,
      42,
      'user',
      { user_properties: { plan: [1n] } },
      { user_properties: circular },
      {
        device_id: {
          toString: () => {
            throw new Error('x');
          },
        },
      },
      { groups: { org: null } },
      Object.defineProperty({}, 'device_id', {
        enumerable: true,
        get: () => {
          throw new Error('getter');
        },
      }),
    ];
    for (const user of hostile) {
      expect(() => snapshot.evaluate(user as never)).not.toThrow();
      expect(() => snapshot.evaluate(user as never, 'flag-a' as never)).not.toThrow();
    }
    // a user that breaks one flag does not cost the others their answer
    const r = snapshot.evaluate({ user_id: 'x', user_properties: { plan: [1n] } } as never);
    expect(r['json-value']).toMatchObject({ key: 'on' });
  });

  it('handles a 20,000-flag dependency chain without overflowing the stack', () => {
    const chain = [];
    for (let i = 0; i < 20000; i++) chain.push(flag(`c${i}`, i > 0 ? { dependencies: [`c${i - 1}`] } : {}));
    const snapshot = engine.load(JSON.stringify(chain.reverse()));
    expect(snapshot.size).toBe(20000);
    expect(snapshot.keys()[0]).toBe('c0');
    expect(Object.keys(snapshot.evaluate({}, ['c3'])).sort()).toEqual(['c0', 'c1', 'c2', 'c3']);
  });
});

describe('engine selection', () => {
  it('falls back to js with a reason, and honours AMPLITUDE_EXPERIMENT_ENGINE', () => {
    const saved = process.env.AMPLITUDE_EXPERIMENT_ENGINE;
    try {
      delete process.env.AMPLITUDE_EXPERIMENT_ENGINE;
      resetEngineSelection();
      const warnings: string[] = [];
      const e = selectEngine(
        () => {
          throw new Error('No native build was found for platform=linux arch=x64 runtime=node abi=115');
        },
        { warn: (m) => warnings.push(m) },
      );
      expect(e.kind).toBe('js');
      expect(warnings).toHaveLength(1);
      const d = getDiagnosis();
      expect(d).toMatchObject({ engine: 'js', binary: null, platform: process.platform, arch: process.arch });
      expect(d.fallbackReason).toMatch(/no prebuilt binary/);
      expect(d.napiVersion).toBe(Number(process.versions.napi));

      resetEngineSelection();
      const native = { kind: 'native' as const, load: engine.load };
      expect(selectEngine(() => ({ engine: native, binary: '/x.node' })).kind).toBe('native');
      expect(getDiagnosis()).toMatchObject({ engine: 'native', binary: '/x.node', fallbackReason: null });

      process.env.AMPLITUDE_EXPERIMENT_ENGINE = 'js';
      resetEngineSelection();
      expect(selectEngine(() => ({ engine: native, binary: '/x.node' })).kind).toBe('js');

      process.env.AMPLITUDE_EXPERIMENT_ENGINE = 'native';
      resetEngineSelection();
      expect(() =>
        selectEngine(() => {
          throw new Error('boom');
        }),
      ).toThrow(/native/);
    } finally {
      if (saved === undefined) delete process.env.AMPLITUDE_EXPERIMENT_ENGINE;
      else process.env.AMPLITUDE_EXPERIMENT_ENGINE = saved;
      resetEngineSelection();
    }
  });

  it('describes dlopen failures', () => {
    expect(describeNativeLoadFailure(new Error("/lib/x86_64-linux-gnu/libc.so.6: version `GLIBC_2.34' not found"))).toMatch(
      /newer C library/,
    );
    expect(describeNativeLoadFailure(new Error('x.node: wrong ELF class: ELFCLASS32'))).toMatch(/another platform/);
    expect(describeNativeLoadFailure(new Error('something else'))).toMatch(/failed to load: something else/);
  });
});
