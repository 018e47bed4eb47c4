import { describe, expect, it } from 'vitest';
import { loadEngine } from '../src/engine';

describe('smoke', () => {
  it('evaluates', () => {
    const flags = [{ key: 'a', variants: { on: { key: 'on', value: 'on' } }, segments: [{ variant: 'on' }] }];
    const snap = loadEngine().load(JSON.stringify(flags));
    expect(snap.evaluate({ user_id: 'x' })).toEqual({ a: { key: 'on', value: 'on', metadata: {} } });
  });
});
