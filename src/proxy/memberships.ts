/**
 * Cohort membership for cohorts not held in memory, asked of Amplitude's
 * evaluation-proxy one user (or group) at a time:
 * `GET {proxyUrl}/sdk/v2/memberships/{groupType}/{groupName}` (Api-Key auth)
 * answers the ids of every cohort of that group type the name is in. Answers
 * are cached in an LRU per group type with a TTL (the JVM SDK's
 * cohortCacheCapacity / cohortCacheTtlMillis). An answer older than the TTL
 * is still used while its refresh is in flight (and while the proxy fails),
 * so a user's cohorts never flip to "none" because an entry expired. The
 * LRU (lru-cache preallocates for its capacity: ~40 MB at 1,000,000) is
 * created on the first lookup of a group type, so clients whose cohorts are
 * all held in memory never pay for it.
 *
 * Evaluation stays synchronous: memberOf() answers from memory only. Cohorts
 * held in the store answer from the store; the others from the cached proxy
 * answer. A miss starts a background lookup (so the next evaluation of that
 * user has it) and, meanwhile, counts as "in none of the cohorts not held".
 * `prepare()` awaits the lookups one user needs, for callers that want the
 * first evaluation to be exact (client.prepareUser / evaluateV2Async).
 *
 * A failed lookup pauses every lookup for a backoff delay (doubling while the
 * proxy keeps failing): with nothing cached for a user, each evaluation would
 * otherwise ask again, thousands of requests a second against a proxy that is
 * down. While paused, users not looked up count as in none (as on a failure).
 */
import type { LRUCache } from 'lru-cache';
import type { CohortStore } from '../engine/cohort-store';
import type { ExperimentUser } from '../types';
import type { CohortIndex } from '../local/cohort-utils';
import { USER_GROUP_TYPE } from '../local/cohort-utils';
import { FetchError, type HttpClient, splitUrl } from '../util/http';
import type { Logger } from '../util/logger';
import { errorMessage } from '../util/error-message';
import { LIBRARY } from '../version';
import { createLru } from '../util/lru';
import { Backoff, type BackoffOptions } from '../util/backoff';

/** What cohort enrichment needs: which of `cohortIds` (of `groupType`) contain `member`, in that order. */
export interface CohortMembership {
  memberOf(groupType: string, member: unknown, cohortIds: readonly string[]): string[];
}

/** Per-request deadline of a memberships lookup. */
export const MEMBERSHIP_REQUEST_TIMEOUT_MILLIS = 5_000;
/** Background lookups (started by a cache miss in evaluateV2) in flight at once; further misses wait for a later call. */
export const MAX_BACKGROUND_LOOKUPS = 64;
/** After a failed lookup, no lookup for this long: 1 s, doubling up to 30 s while the proxy keeps failing. */
export const MEMBERSHIP_FAILURE_BACKOFF: Readonly<BackoffOptions> = Object.freeze({
  minMillis: 1_000,
  maxMillis: 30_000,
  scalar: 2,
});

export interface ProxyMembershipsOptions {
  apiKey: string;
  proxyUrl: string;
  capacity: number;
  ttlMillis: number;
  http: HttpClient;
  logger: Logger;
  /** Cohorts held in memory (downloaded); undefined when none are downloaded (no cohortSyncConfig). */
  store: CohortStore | undefined;
  requestTimeoutMillis?: number;
  /** Clock for the TTL and the failure backoff (tests). Default performance. */
  clock?: { now(): number };
}

type Answer = ReadonlySet<string>;

export class ProxyMemberships implements CohortMembership {
  private readonly origin: string;
  private readonly basePath: string;
  private readonly caches = new Map<string, LRUCache<string, Answer>>();
  private readonly inFlight = new Map<string, Promise<void>>();
  private readonly abort = new AbortController();
  private failing = false;
  private stopped = false;
  private readonly clock: { now(): number };
  private readonly backoff: Backoff;
  /** No lookup starts before this time (clock): the proxy failed. */
  private pausedUntil = -Infinity;

  constructor(private readonly options: ProxyMembershipsOptions) {
    const { origin, path } = splitUrl(options.proxyUrl + '/sdk/v2/memberships');
    this.origin = origin;
    this.basePath = path;
    this.clock = options.clock ?? performance;
    this.backoff = new Backoff(MEMBERSHIP_FAILURE_BACKOFF);
  }

  memberOf(groupType: string, member: unknown, cohortIds: readonly string[]): string[] {
    if (typeof member !== 'string' || member === '') return [];
    const store = this.options.store;
    if (store !== undefined && cohortIds.every((id) => store.has(id))) return store.memberOf(groupType, member, cohortIds);
    const cache = this.cache(groupType);
    const answer = cache.get(member);
    if (answer === undefined || cache.getRemainingTTL(member) <= 0) this.lookupInBackground(groupType, member);
    const held = store ? store.memberOf(groupType, member, cohortIds) : [];
    const out: string[] = [];
    for (const id of cohortIds) {
      if (store?.has(id) ? held.includes(id) : answer?.has(id) === true) out.push(id);
    }
    return out;
  }

  /**
   * Look up (and cache) the memberships `user` needs under `index`: its
   * user_id when a referenced user cohort is not held, and the first name of
   * each group type with a referenced cohort not held. Resolves when they
   * are cached or failed (logged); never rejects.
   */
  async prepare(user: ExperimentUser | undefined, index: CohortIndex | undefined): Promise<void> {
    if (!user || !index || this.stopped) return;
    const pending: Promise<void>[] = [];
    const need = (groupType: string, name: unknown, ids: readonly string[] | undefined): void => {
      if (typeof name !== 'string' || name === '' || ids === undefined || !this.needsLookup(ids)) return;
      if (this.cache(groupType).getRemainingTTL(name) > 0) return;
      pending.push(this.lookup(groupType, name));
    };
    try {
      need(USER_GROUP_TYPE, user.user_id, index.user);
      const groups = user.groups;
      if (groups && typeof groups === 'object') {
        for (const groupType of Object.keys(groups)) {
          const names = groups[groupType];
          if (Array.isArray(names) && names.length > 0) need(groupType, names[0], index.byGroup.get(groupType));
        }
      }
    } catch {
      // A field of the user cannot be read (a throwing getter): nothing more to look up. Evaluation reports such a
      // user and evaluates it as it does every one (enrichUser leaves it as given).
    }
    await Promise.all(pending);
  }

  /** Drop every cached answer (a snapshot changed which cohorts are referenced, or tests). */
  clear(): void {
    for (const cache of this.caches.values()) cache.clear();
  }

  /** Cached answers, over all group types. */
  get size(): number {
    let n = 0;
    for (const cache of this.caches.values()) n += cache.size;
    return n;
  }

  stop(): void {
    this.stopped = true;
    this.abort.abort(new Error('client stopped'));
  }

  private needsLookup(ids: readonly string[]): boolean {
    const store = this.options.store;
    return store === undefined || !ids.every((id) => store.has(id));
  }

  private cache(groupType: string): LRUCache<string, Answer> {
    let cache = this.caches.get(groupType);
    if (!cache) {
      const clock = this.options.clock;
      cache = createLru<string, Answer>(this.options.capacity, {
        ttl: this.options.ttlMillis,
        allowStale: true,
        noDeleteOnStaleGet: true,
        ...(clock ? { perf: clock, ttlResolution: 0 } : {}),
      });
      this.caches.set(groupType, cache);
    }
    return cache;
  }

  private lookupInBackground(groupType: string, name: string): void {
    if (this.stopped || this.inFlight.size >= MAX_BACKGROUND_LOOKUPS) return;
    void this.lookup(groupType, name);
  }

  /** One lookup per (group type, name) at a time; resolves when cached or failed (or at once while paused). */
  private lookup(groupType: string, name: string): Promise<void> {
    const key = groupType + '\u0000' + name;
    let promise = this.inFlight.get(key);
    if (!promise) {
      if (this.clock.now() < this.pausedUntil) return Promise.resolve();
      promise = this.fetch(groupType, name)
        .then((answer) => {
          if (this.stopped) return;
          this.cache(groupType).set(name, answer);
          this.backoff.reset();
          this.pausedUntil = -Infinity;
          if (this.failing) {
            this.failing = false;
            this.options.logger.info('cohort memberships from the evaluation proxy are answered again');
          }
        })
        .catch((err: unknown) => {
          if (this.stopped) return;
          // Lookups already in flight when the pause began fail too: they do not lengthen it.
          const now = this.clock.now();
          if (now >= this.pausedUntil) this.pausedUntil = now + this.backoff.next();
          if (this.failing) return;
          this.failing = true;
          this.options.logger.error(
            `cohort memberships from the evaluation proxy failed (${errorMessage(err)}); ` +
              'cohorts not held in memory count as not matched until it answers',
          );
        })
        .finally(() => this.inFlight.delete(key));
      this.inFlight.set(key, promise);
    }
    return promise;
  }

  private async fetch(groupType: string, name: string): Promise<Answer> {
    const response = await this.options.http.request({
      origin: this.origin,
      path: `${this.basePath}/${encodeURIComponent(groupType)}/${encodeURIComponent(name)}`,
      method: 'GET',
      headers: { Authorization: `Api-Key ${this.options.apiKey}`, 'X-Amp-Exp-Library': LIBRARY },
      timeoutMillis: this.options.requestTimeoutMillis ?? MEMBERSHIP_REQUEST_TIMEOUT_MILLIS,
      signal: this.abort.signal,
    });
    if (response.status !== 200) {
      const hint = response.status === 401 ? ' (the proxy does not know this deployment key)' : '';
      throw new FetchError(response.status, `memberships request failed: status=${response.status}${hint}`);
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(response.body.toString('utf8'));
    } catch {
      throw new FetchError(200, 'memberships response is not JSON', { code: 'INVALID_RESPONSE' });
    }
    if (!Array.isArray(parsed))
      throw new FetchError(200, 'memberships response is not a JSON array', { code: 'INVALID_RESPONSE' });
    return new Set(parsed.filter((id): id is string => typeof id === 'string'));
  }
}
