/** Shared fixtures for the local-evaluation tests. */
import { afterAll, beforeAll, expect } from 'vitest';
import type { LocalEvaluationConfig } from '../../src/config/local';
import { LocalEvaluationClient } from '../../src/local/client';
import { LOCAL_CLIENT_INTERNALS, type LocalClientInternals } from '../../src/local/internals';
import type { EvaluationFlag } from '../../src/types';
import type { LoggerProvider } from '../../src/util/logger';

export const API_KEY = 'server-test-key';

/** Fail the file if any promise rejection goes unhandled while it runs. */
export function guardUnhandledRejections(): void {
  const unhandled: unknown[] = [];
  const onUnhandled = (e: unknown): void => void unhandled.push(e);
  beforeAll(() => void process.on('unhandledRejection', onUnhandled));
  afterAll(() => {
    process.off('unhandledRejection', onUnhandled);
    expect(unhandled).toEqual([]);
  });
}

export interface CapturingLogger extends LoggerProvider {
  lines: Array<{ level: string; message: string }>;
  count(level: string, pattern: RegExp | string): number;
}

export function capturingLogger(): CapturingLogger {
  const lines: Array<{ level: string; message: string }> = [];
  const push = (level: string) => (message?: unknown) => void lines.push({ level, message: String(message) });
  return {
    lines,
    verbose: push('verbose'),
    debug: push('debug'),
    info: push('info'),
    warn: push('warn'),
    error: push('error'),
    count(level, pattern) {
      return lines.filter(
        (l) => l.level === level && (typeof pattern === 'string' ? l.message.includes(pattern) : pattern.test(l.message)),
      ).length;
    },
  };
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Poll `check` until it returns true (or throw after timeoutMillis). */
export async function eventually(check: () => boolean, timeoutMillis = 10_000, what = 'condition'): Promise<void> {
  const end = Date.now() + timeoutMillis;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}

const clients: LocalEvaluationClient[] = [];

/** A client with test-only internals; closed by closeClients(). */
export function localClient(config: LocalEvaluationConfig, internals: LocalClientInternals = {}): LocalEvaluationClient {
  const c = new LocalEvaluationClient(API_KEY, { ...config, [LOCAL_CLIENT_INTERNALS]: internals } as LocalEvaluationConfig);
  clients.push(c);
  return c;
}

export async function closeClients(): Promise<void> {
  await Promise.all(clients.splice(0).map((c) => c.close({ flushTimeoutMillis: 500 })));
}

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
