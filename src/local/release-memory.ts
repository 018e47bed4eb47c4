/**
 * After a large cohort load, the buffers it went through (socket chunks, a
 * Redis reply, decoded and inflated copies) are garbage that glibc keeps
 * resident once collected. At the next GC (when they are freed), ask the
 * store to give free heap memory back (malloc_trim, off the main thread).
 * One-shot per load; no cost when idle. Used by every cohort loader.
 */
import type { PerformanceObserver } from 'node:perf_hooks';
import type { CohortStore } from '../engine/cohort-store';
import { perfHooks } from '../util/builtins';

/** Loads at least this large schedule a release. */
export const RELEASE_MEMORY_AFTER_BYTES = 1 << 20;

export class MemoryReleaser {
  private observer: PerformanceObserver | undefined;
  private stopped = false;

  constructor(private readonly store: CohortStore) {}

  /** A load of `bytes` finished: release freed memory after the next GC (when large enough). */
  afterLoad(bytes: number): void {
    if (bytes < RELEASE_MEMORY_AFTER_BYTES || this.observer || this.stopped) return;
    const observer = new (perfHooks().PerformanceObserver)(() => {
      observer.disconnect();
      if (this.observer === observer) this.observer = undefined;
      this.store.releaseFreeMemory().catch(() => undefined);
    });
    this.observer = observer;
    observer.observe({ entryTypes: ['gc'] });
  }

  stop(): void {
    this.stopped = true;
    this.observer?.disconnect();
    this.observer = undefined;
  }
}
