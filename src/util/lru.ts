/**
 * The SDK's LRU caches (the exposure/assignment dedup filter, the evaluation
 * proxy's membership answers): lru-cache, bounded by entry count.
 *
 * The bound is given as `maxSize` with every entry counting 1, not as `max`:
 * with `max`, lru-cache allocates storage for every slot up front, which for
 * the default capacities cost each client ~15 ms and 2 MB (65,536 dedup
 * entries) or ~200 ms and 29 MB (1,000,000 memberships) before the first
 * entry. Counted this way the storage grows with the entries; eviction is the
 * same least-recently-used order at the same bound.
 */
import type { LRUCache } from 'lru-cache';
import { lazy } from './lazy';

// Loaded with the first cache, not at require time.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const lruCache = lazy(() => require('lru-cache') as typeof import('lru-cache'));

/** An LRU cache holding at most `capacity` entries (at least 1), with lru-cache's other `options`. */
export function createLru<K extends NonNullable<unknown>, V extends NonNullable<unknown>>(
  capacity: number,
  options: Omit<LRUCache.Options<K, V, unknown>, 'max' | 'maxSize' | 'sizeCalculation'>,
): LRUCache<K, V> {
  return new (lruCache().LRUCache)<K, V>({
    ...options,
    maxSize: Math.max(1, Math.floor(capacity)),
    sizeCalculation: () => 1,
  });
}
