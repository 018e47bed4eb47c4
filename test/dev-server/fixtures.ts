/** Flag configs (v2 format) used by the remote and server tests. */
import type { EvaluationFlag } from '../../src/types';

const offVariant = { key: 'off', metadata: { default: true } };

export const FLAGS: EvaluationFlag[] = [
  {
    key: 'flag-on',
    metadata: { deployed: true, evaluationMode: 'remote', flagType: 'release', flagVersion: 3 },
    segments: [{ metadata: { segmentName: 'All Other Users' }, variant: 'on' }],
    variants: { off: offVariant, on: { key: 'on', value: 'on', payload: { feature: ['a', 'b'] } } },
  },
  {
    key: 'flag-premium',
    metadata: { deployed: true, evaluationMode: 'remote', flagType: 'release', flagVersion: 7 },
    segments: [
      {
        conditions: [[{ op: 'is', selector: ['context', 'user', 'user_properties', 'premium'], values: ['true'] }]],
        metadata: { segmentName: 'Premium' },
        variant: 'treatment',
      },
      { metadata: { segmentName: 'All Other Users' }, variant: 'off' },
    ],
    variants: { off: offVariant, treatment: { key: 'treatment', value: 'treatment' } },
  },
  {
    key: 'exp-bucket',
    metadata: { deployed: true, evaluationMode: 'remote', flagType: 'experiment', flagVersion: 2, experimentKey: 'exp-1' },
    segments: [
      {
        bucket: {
          selector: ['context', 'user', 'device_id'],
          salt: 'Wn3DJ0rf',
          allocations: [
            {
              range: [0, 100],
              distributions: [
                { variant: 'control', range: [0, 2147483] },
                { variant: 'treatment', range: [2147483, 4294967] },
              ],
            },
          ],
        },
        metadata: { segmentName: 'All Other Users' },
        variant: 'off',
      },
    ],
    variants: {
      off: offVariant,
      control: { key: 'control', value: 'control' },
      treatment: { key: 'treatment', value: 'treatment' },
    },
  },
  {
    key: 'flag-group',
    metadata: { deployed: true, evaluationMode: 'remote', flagType: 'release', flagVersion: 1 },
    segments: [
      {
        conditions: [
          [{ op: 'is', selector: ['context', 'groups', 'org name', 'group_name'], values: ['Amplitude'] }],
          [{ op: 'is', selector: ['context', 'groups', 'org name', 'group_properties', 'plan'], values: ['enterprise'] }],
        ],
        metadata: { segmentName: 'Org' },
        variant: 'on',
      },
      { variant: 'off' },
    ],
    variants: { off: offVariant, on: { key: 'on', value: 'on' } },
  },
  {
    key: 'flag-json',
    metadata: { deployed: true, evaluationMode: 'remote', flagType: 'release', flagVersion: 1 },
    segments: [{ variant: 'json' }],
    variants: { off: offVariant, json: { key: 'json', value: { nested: [1, 'two', null] } } },
  },
  {
    key: 'flag-dependent',
    dependencies: ['flag-on'],
    metadata: { deployed: true, evaluationMode: 'remote', flagType: 'release', flagVersion: 1 },
    segments: [
      {
        conditions: [[{ op: 'is', selector: ['result', 'flag-on', 'key'], values: ['on'] }]],
        variant: 'on',
      },
      { variant: 'off' },
    ],
    variants: { off: offVariant, on: { key: 'on', value: 'on' } },
  },
  {
    key: 'flag-off',
    metadata: { deployed: true, evaluationMode: 'remote', flagType: 'release', flagVersion: 1 },
    segments: [{ variant: 'off' }],
    variants: { off: offVariant, on: { key: 'on', value: 'on' } },
  },
];

export const API_KEY = 'server-test-key';
