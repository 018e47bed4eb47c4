/** Process-level guards for test files. */
import { afterAll, beforeAll, expect } from 'vitest';

/** Fail the file if any promise rejection goes unhandled while it runs (the SDK must never cause one). */
export function guardUnhandledRejections(): void {
  const unhandled: unknown[] = [];
  const onUnhandled = (e: unknown): void => void unhandled.push(e);
  beforeAll(() => void process.on('unhandledRejection', onUnhandled));
  afterAll(() => {
    process.off('unhandledRejection', onUnhandled);
    expect(unhandled).toEqual([]);
  });
}
