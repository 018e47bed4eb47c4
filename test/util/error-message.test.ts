import { describe, expect, it } from 'vitest';
import { errorMessage } from '../../src/util/error-message';

describe('errorMessage', () => {
  it("gives an Error's message, or its name when the message is empty", () => {
    expect(errorMessage(new TypeError('bad input'))).toBe('bad input');
    expect(errorMessage(new RangeError())).toBe('RangeError');
  });

  it('gives String() of anything else', () => {
    expect(errorMessage('plain text')).toBe('plain text');
    expect(errorMessage(42)).toBe('42');
    expect(errorMessage(undefined)).toBe('undefined');
    expect(errorMessage(Symbol('s'))).toBe('Symbol(s)');
    expect(errorMessage({ toString: () => 'custom' })).toBe('custom');
  });

  it('never throws, whatever was thrown', () => {
    expect(errorMessage(Object.create(null))).toBe('[object Object]');
    const { proxy, revoke } = Proxy.revocable({}, {});
    revoke();
    expect(errorMessage(proxy)).toBe('a value that cannot be converted to a string');
    const hostile = {
      toString() {
        throw new Error('no');
      },
    };
    expect(errorMessage(hostile)).toBe('[object Object]');
    const hostileError = new Error('x');
    Object.defineProperty(hostileError, 'message', {
      get() {
        throw new Error('no');
      },
    });
    expect(errorMessage(hostileError)).toBe('[object Error]');
  });
});
