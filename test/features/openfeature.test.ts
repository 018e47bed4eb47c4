/** The OpenFeature provider, driven through the OpenFeature server SDK. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ErrorCode, OpenFeature, StandardResolutionReasons } from '@openfeature/server-sdk';
import { LocalEvaluationClient } from '../../src/local/client';
import { AmplitudeProvider, contextToUser } from '../../src/openfeature';
import { TestData } from '../../src/testing/test-data';

const td = new TestData();
td.update(
  td.flag('bool').variations('on').forUser('ada', 'on').fallthroughVariation('off').metadata({ flagVersion: 7 }),
  td.flag('str').variations('control', 'treatment').forUser('ada', 'treatment').fallthroughVariation('control'),
  td
    .flag('num')
    .variations({ low: { value: '0.25' }, text: { value: 'abc' } })
    .forUser('ada', 'text')
    .fallthroughVariation('low'),
  td
    .flag('obj')
    .variations({ v: { value: 'v', payload: { limit: 3, tags: ['x'] } } })
    .fallthroughVariation('v'),
  td.flag('split').variations('a', 'b').rollout({ a: 1, b: 1 }, { bucketBy: 'user_id' }),
);

let client: LocalEvaluationClient;
beforeAll(async () => {
  client = new LocalEvaluationClient('k', { dataSource: td });
  await OpenFeature.setProviderAndWait('amp', new AmplitudeProvider(client, { closeClient: true }));
});
afterAll(async () => {
  await OpenFeature.close();
});

describe('AmplitudeProvider', () => {
  it('resolves booleans with variant, reason and flag metadata', async () => {
    const of = OpenFeature.getClient('amp');
    const ada = await of.getBooleanDetails('bool', false, { targetingKey: 'ada' });
    expect(ada).toMatchObject({ value: true, variant: 'on', reason: StandardResolutionReasons.TARGETING_MATCH });
    expect(ada.flagMetadata).toMatchObject({ flagVersion: 7, segmentName: 'Individual Inclusions', segmentIndex: 0 });
    // Everyone else gets Amplitude's default 'off' variant: the caller's default, reason DEFAULT.
    const other = await of.getBooleanDetails('bool', true, { targetingKey: 'bob' });
    expect(other).toMatchObject({ value: true, variant: 'off', reason: StandardResolutionReasons.DEFAULT });
    expect(other.errorCode).toBeUndefined();
  });

  it('resolves strings, numbers and objects; SPLIT for a rollout', async () => {
    const of = OpenFeature.getClient('amp');
    expect(await of.getStringValue('str', 'x', { targetingKey: 'ada' })).toBe('treatment');
    expect(await of.getStringValue('str', 'x', { targetingKey: 'bob' })).toBe('control');
    expect(await of.getNumberValue('num', 1, { targetingKey: 'bob' })).toBe(0.25);
    expect(await of.getObjectValue('obj', {}, {})).toEqual({ limit: 3, tags: ['x'] });
    const split = await of.getStringDetails('split', 'x', { targetingKey: 'someone' });
    expect(split.reason).toBe(StandardResolutionReasons.SPLIT);
    expect(['a', 'b']).toContain(split.value);
    expect(typeof split.flagMetadata.bucketHash).toBe('number');
  });

  it('reports FLAG_NOT_FOUND and TYPE_MISMATCH with the default value, never throwing', async () => {
    const of = OpenFeature.getClient('amp');
    const missing = await of.getBooleanDetails('nope', true, {});
    expect(missing).toMatchObject({ value: true, errorCode: ErrorCode.FLAG_NOT_FOUND, reason: StandardResolutionReasons.ERROR });
    const notNumber = await of.getNumberDetails('num', 5, { targetingKey: 'ada' });
    expect(notNumber).toMatchObject({ value: 5, errorCode: ErrorCode.TYPE_MISMATCH });
    expect(notNumber.errorMessage).toMatch(/variant text has value "abc", not a number/);
    const notBool = await of.getBooleanDetails('str', false, { targetingKey: 'ada' });
    expect(notBool).toMatchObject({ value: false, errorCode: ErrorCode.TYPE_MISMATCH });
    const notObject = await of.getObjectDetails('str', { d: 1 }, {});
    expect(notObject).toMatchObject({ value: { d: 1 }, errorCode: ErrorCode.TYPE_MISMATCH });
  });

  it('reports PROVIDER_NOT_READY for a client without flags', async () => {
    const empty = new LocalEvaluationClient('k', { bootstrap: undefined });
    const provider = new AmplitudeProvider(empty, { startClient: false });
    await OpenFeature.setProviderAndWait('empty', provider);
    const r = await OpenFeature.getClient('empty').getBooleanDetails('bool', true, { targetingKey: 'ada' });
    expect(r).toMatchObject({ value: true, errorCode: ErrorCode.PROVIDER_NOT_READY });
    await empty.close();
  });

  it('maps the evaluation context to an Amplitude user', () => {
    const when = new Date('2024-01-02T03:04:05Z');
    expect(
      contextToUser({ targetingKey: 't', device_id: 'd', country: 'FR', plan: 'pro', signup: when, user_properties: { a: 1 } }),
    ).toEqual({
      user_id: 't',
      device_id: 'd',
      country: 'FR',
      user_properties: { a: 1, plan: 'pro', signup: '2024-01-02T03:04:05.000Z' },
    });
    expect(contextToUser({ targetingKey: 't', user_id: 'u' }).user_id).toBe('u');
  });
});
