/** Flag configs (v2 format) for local-evaluation tests, and the deployment key the local server accepts. */
import type { EvaluationFlag } from '../../src/types';

export const API_KEY = 'server-test-key';

const off = { key: 'off', metadata: { default: true } };

export function flag(key: string, variant: 'on' | 'off' = 'on', version = 1): EvaluationFlag {
  return {
    key,
    metadata: { deployed: true, evaluationMode: 'local', flagType: 'release', flagVersion: version },
    segments: [{ metadata: { segmentName: 'All Other Users' }, variant }],
    variants: { off, on: { key: 'on', value: 'on' } },
  };
}

/** A flag that is on for members of user cohort `cohortId` (and, optionally, of group cohort `groupCohort`). */
export function cohortFlag(key: string, cohortId: string, groupCohort?: { groupType: string; cohortId: string }): EvaluationFlag {
  const segments: EvaluationFlag['segments'] = [
    {
      conditions: [[{ op: 'set contains any', selector: ['context', 'user', 'cohort_ids'], values: [cohortId] }]],
      metadata: { segmentName: 'Cohort' },
      variant: 'on',
    },
  ];
  if (groupCohort) {
    segments.push({
      conditions: [
        [
          {
            op: 'set contains any',
            selector: ['context', 'groups', groupCohort.groupType, 'cohort_ids'],
            values: [groupCohort.cohortId],
          },
        ],
      ],
      metadata: { segmentName: 'Group cohort' },
      variant: 'on',
    });
  }
  segments.push({ metadata: { segmentName: 'All Other Users' }, variant: 'off' });
  return {
    key,
    metadata: { deployed: true, evaluationMode: 'local', flagType: 'release', flagVersion: 1 },
    segments,
    variants: { off, on: { key: 'on', value: 'on' } },
  };
}

/** Flags referencing no cohort, where a `not in cohort` flag is on for non-members. */
export function notInCohortFlag(key: string, cohortId: string): EvaluationFlag {
  return {
    key,
    metadata: { deployed: true, evaluationMode: 'local', flagType: 'release', flagVersion: 1 },
    segments: [
      {
        conditions: [[{ op: 'set does not contain any', selector: ['context', 'user', 'cohort_ids'], values: [cohortId] }]],
        metadata: { segmentName: 'Not in cohort' },
        variant: 'on',
      },
      { variant: 'off' },
    ],
    variants: { off, on: { key: 'on', value: 'on' } },
  };
}
