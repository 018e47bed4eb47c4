/** The one variant conversion (src/util/variant.ts), compared with the official SDK's own functions. */
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import type { Variants } from '../../src/types';
import { apiKeyAuthorization, basicAuthorization, sdkHeaders } from '../../src/util/auth';
import {
  convertParsedVariants,
  evaluationVariantToVariant,
  evaluationVariantsToVariants,
  filterDefaultVariants,
  variantValue,
} from '../../src/util/variant';
import { LIBRARY } from '../../src/version';

const official = createRequire(__filename)('@amplitude/experiment-node-server/dist/src/util/variant.js') as {
  evaluationVariantToVariant(v: Record<string, unknown>): unknown;
  filterDefaultVariants(v: Record<string, unknown>): unknown;
};

const VALUES: unknown[] = ['on', '', 0, 1.5, true, false, null, undefined, { a: [1, 'x'] }, [1, 2], 'with "quotes"'];

describe('variant conversion', () => {
  it.each(VALUES.map((v) => [v]))('value %j converts exactly as the official evaluationVariantToVariant', (value) => {
    const input = { key: 'k', value, payload: { p: 1 }, metadata: { default: false } };
    expect(evaluationVariantToVariant({ ...input })).toStrictEqual(official.evaluationVariantToVariant({ ...input }));
    expect(variantValue(value)).toBe((official.evaluationVariantToVariant({ value }) as { value: unknown }).value);
  });

  it('a value JSON cannot encode falls back to String()', () => {
    expect(variantValue(10n)).toBe('10');
  });

  it('the in-place conversion equals the copying one, key order included', () => {
    const make = () => ({ a: { key: 'on', value: { x: 1 } }, b: { key: 'off', metadata: { default: true } }, c: 'junk' });
    const copied = evaluationVariantsToVariants(make());
    const inPlace = convertParsedVariants(make());
    expect(inPlace).toStrictEqual(copied);
    expect(Object.keys(inPlace.a)).toEqual(Object.keys(copied.a));
  });

  it('filterDefaultVariants keeps what the official keeps, and a __proto__ flag stays data', () => {
    const variants = {
      a: { key: 'on' },
      b: { key: 'off', metadata: { default: true } },
      c: { key: 'x', metadata: { deployed: false } },
    };
    expect(filterDefaultVariants(variants)).toStrictEqual(official.filterDefaultVariants(variants));
    const hostile = JSON.parse('{"__proto__": {"key": "on"}}') as Variants;
    const out = filterDefaultVariants(hostile);
    expect(Object.getPrototypeOf(out)).toBe(Object.prototype);
    expect(Object.keys(out)).toEqual(['__proto__']);
  });
});

describe('auth headers', () => {
  it('Api-Key for deployment keys, Basic for the cohort API, with the library', () => {
    expect(apiKeyAuthorization('server-abc')).toBe('Api-Key server-abc');
    expect(basicAuthorization('api', 'sécret')).toBe('Basic ' + Buffer.from('api:sécret').toString('base64'));
    expect(sdkHeaders('Api-Key k')).toEqual({ Authorization: 'Api-Key k', 'X-Amp-Exp-Library': LIBRARY });
  });
});
