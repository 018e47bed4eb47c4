import { describe, expect, it } from 'vitest';
import { LocalEvaluationClient } from '../../src/local/client';
import type { EvaluationHook, EvaluationHookContext, EvaluationHookResult } from '../../src/local/hooks';
import { capturingLogger, closeClientsAfterEach, eventually, guardUnhandledRejections, track } from '../support';

guardUnhandledRejections();

const FLAGS = [
  {
    key: 'a',
    metadata: { flagType: 'release' },
    segments: [{ variant: 'on' }],
    variants: { on: { key: 'on', value: 'on' } },
  },
  {
    key: 'b',
    segments: [{ variant: 'off' }],
    variants: { off: { key: 'off', metadata: { default: true } } },
  },
];

closeClientsAfterEach();
function client(config: ConstructorParameters<typeof LocalEvaluationClient>[1] = {}): LocalEvaluationClient {
  return track(new LocalEvaluationClient('key', { bootstrap: FLAGS, ...config }));
}

describe('evaluation hooks', () => {
  it('runs before and after around evaluateV2, passing data from before to after', () => {
    const calls: string[] = [];
    let after: { context: EvaluationHookContext; result: EvaluationHookResult; data: unknown } | undefined;
    const hook: EvaluationHook<{ token: number }> = {
      name: 'metrics',
      beforeEvaluation(context) {
        calls.push(`before:${context.method}:${context.flagKeys?.join(',')}`);
        return { token: 42 };
      },
      afterEvaluation(context, result, data) {
        calls.push('after');
        after = { context, result, data };
      },
    };
    const c = client({ hooks: [hook] });
    const user = { user_id: 'u1' };
    const variants = c.evaluateV2(user, ['a']);
    expect(variants.a.key).toBe('on');
    expect(calls).toEqual(['before:evaluateV2:a', 'after']);
    expect(after!.context.user).toBe(user);
    expect(after!.result.variants).toBe(variants);
    expect(after!.result.durationMillis).toBeGreaterThanOrEqual(0);
    expect(after!.data).toEqual({ token: 42 });
  });

  it('addHook registers hooks on a running client; after-stages run in reverse order', () => {
    const order: string[] = [];
    const c = client();
    c.evaluateV2({ user_id: 'u' });
    expect(order).toEqual([]);
    c.addHook({ beforeEvaluation: () => void order.push('1.before'), afterEvaluation: () => void order.push('1.after') });
    c.addHook({ beforeEvaluation: () => void order.push('2.before'), afterEvaluation: () => void order.push('2.after') });
    c.evaluateV2({ user_id: 'u' });
    expect(order).toEqual(['1.before', '2.before', '2.after', '1.after']);
  });

  it('a throwing hook is logged once per stage and never breaks evaluation', () => {
    const logger = capturingLogger();
    const c = client({ logger });
    const seen: string[] = [];
    c.addHook({
      name: 'broken',
      beforeEvaluation: () => {
        throw new Error('boom before');
      },
      afterEvaluation: () => {
        throw new Error('boom after');
      },
    });
    c.addHook({ afterEvaluation: (_c, r) => void seen.push(Object.keys(r.variants).join(',')) });
    for (let i = 0; i < 3; i++) {
      const v = c.evaluateV2({ user_id: 'u' });
      expect(Object.keys(v)).toEqual(['a', 'b']);
    }
    expect(seen).toEqual(['a,b', 'a,b', 'a,b']);
    expect(logger.count('error', 'hook broken threw in beforeEvaluation: boom before')).toBe(1);
    expect(logger.count('error', 'hook broken threw in afterEvaluation: boom after')).toBe(1);
    expect(logger.count('debug', 'boom before')).toBe(2);
  });

  it('an async hook that rejects is logged like one that throws, not left as an unhandled rejection', async () => {
    const logger = capturingLogger();
    const c = client({ logger });
    c.addHook({
      name: 'async-broken',
      beforeEvaluation: async () => Promise.reject(new Error('async before')),
      // eslint-disable-next-line @typescript-eslint/no-misused-promises -- what is tested: a user writing an async hook
      afterEvaluation: async () => {
        await Promise.resolve();
        throw new Error('async after');
      },
    });
    expect(Object.keys(c.evaluateV2({ user_id: 'u' }))).toEqual(['a', 'b']);
    await eventually(() => logger.count('error', 'hook async-broken threw in afterEvaluation: async after') === 1);
    expect(logger.count('error', 'hook async-broken threw in beforeEvaluation: async before')).toBe(1);
  });

  it('a hook throwing or rejecting with a value String() cannot convert is reported, not rethrown', async () => {
    // A null-prototype object has no toString: a report built with String(err) would throw from evaluateV2, or
    // leave an unhandled rejection from the async path.
    const logger = capturingLogger();
    const c = client({ logger });
    const opaque = (): unknown => Object.create(null);
    c.addHook({
      name: 'opaque',
      beforeEvaluation: () => {
        throw opaque();
      },
      // eslint-disable-next-line @typescript-eslint/no-misused-promises -- what is tested: a user writing an async hook
      afterEvaluation: async () => Promise.reject(opaque()),
    });
    expect(Object.keys(c.evaluateV2({ user_id: 'u' }))).toEqual(['a', 'b']);
    await eventually(() => logger.count('error', 'hook opaque threw in afterEvaluation: [object Object]') === 1);
    expect(logger.count('error', 'hook opaque threw in beforeEvaluation: [object Object]')).toBe(1);
  });

  it('a Proxy hook whose stages cannot be read is reported under its position, not rethrown', () => {
    const logger = capturingLogger();
    const c = client({ logger });
    const seen: string[] = [];
    const trap = new Proxy(
      {},
      {
        get(_target, prop) {
          throw new Error(`no ${String(prop)}`);
        },
      },
    );
    c.addHook(trap);
    c.addHook({ afterEvaluation: (_c, r) => void seen.push(Object.keys(r.variants).join(',')) });
    expect(Object.keys(c.evaluateV2({ user_id: 'u' }))).toEqual(['a', 'b']);
    expect(seen).toEqual(['a,b']);
    // Its `name` cannot be read either: the log line names it by position.
    expect(logger.count('error', 'hook #0 threw in beforeEvaluation: no beforeEvaluation')).toBe(1);
    expect(logger.count('error', 'hook #0 threw in afterEvaluation: no afterEvaluation')).toBe(1);
  });

  it('a throwing name getter does not turn an async rejection into an unhandled one', async () => {
    const logger = capturingLogger();
    const c = client({ logger });
    c.addHook({
      get name(): string {
        throw new Error('no name');
      },
      beforeEvaluation: async () => Promise.reject(new Error('async before')),
    });
    expect(Object.keys(c.evaluateV2({ user_id: 'u' }))).toEqual(['a', 'b']);
    await eventually(() => logger.count('error', 'hook #0 threw in beforeEvaluation: async before') === 1);
  });

  it('rejects a hooks option that is not an array', () => {
    expect(() => client({ hooks: {} as unknown as EvaluationHook[] })).toThrow(/hooks must be an array/);
  });
});
