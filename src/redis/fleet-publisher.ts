/**
 * Fleet writer side: stores the data a snapshot needs under immutable,
 * content-named keys (flags by SHA-256, cohorts by id and lastModified),
 * then flips meta to the new manifest in one Lua script that first checks
 * the lease token and that every referenced key exists. Readers therefore
 * see the old snapshot or the new one, never a mix; a writer that lost its
 * lease cannot publish. Data keys are written with a TTL (orphans from a
 * failed publish expire) and made persistent by the flip; keys the new
 * manifest no longer references expire after a grace period, so a reader
 * that read the old manifest can still fetch its data.
 */
import { promisify } from 'node:util';
import type { RedisClient } from './connection';
import { type FleetKeys, type FleetManifest, manifestJson, parseMeta, sha256 } from './fleet-layout';
import type { Lease } from './lease';
import { lazy } from '../util/lazy';
import { zlib } from '../util/builtins';

const gzipAsync = lazy(() => promisify(zlib().gzip));

const FLIP = `
if redis.call('GET', KEYS[2]) ~= ARGV[1] then return {-1} end
local nNew = tonumber(ARGV[7])
for i = 3, 2 + nNew do
  if redis.call('EXISTS', KEYS[i]) == 0 then return {-2, KEYS[i]} end
end
local cur = redis.call('HGET', KEYS[1], 'manifest')
if not cur then cur = '' end
if cur ~= ARGV[8] then return {-3} end
redis.call('HSET', KEYS[1], 'syncedAt', ARGV[3], 'writer', ARGV[4])
for i = 3, 2 + nNew do redis.call('PERSIST', KEYS[i]) end
if cur == ARGV[2] then return {0, tonumber(redis.call('HGET', KEYS[1], 'version') or '0')} end
local keep = {}
for i = 3, 2 + nNew do keep[KEYS[i]] = true end
for i = 3 + nNew, #KEYS do
  if not keep[KEYS[i]] then redis.call('PEXPIRE', KEYS[i], ARGV[5]) end
end
local v = redis.call('HINCRBY', KEYS[1], 'version', 1)
redis.call('HSET', KEYS[1], 'manifest', ARGV[2], 'publishedAt', ARGV[3])
redis.call('PUBLISH', ARGV[6], v)
return {v}
`;

export type PublishResult =
  | { kind: 'published'; version: number }
  | { kind: 'unchanged'; version: number }
  | { kind: 'lease-lost' }
  | { kind: 'missing'; key: string };

export interface FleetPublisherOptions {
  /** TTL of data keys until a flip references them. */
  orphanTtlMillis: number;
  /** How long data keys of a replaced version stay readable. */
  graceMillis: number;
}

export class FleetPublisher {
  constructor(
    private readonly client: RedisClient,
    private readonly keys: FleetKeys,
    private readonly lease: Lease,
    readonly writerId: string,
    private readonly options: FleetPublisherOptions,
  ) {}

  /** Store a flag payload (if not there yet); resolves with its SHA-256. */
  async putFlags(payload: string | Uint8Array): Promise<string> {
    const sha = sha256(payload);
    await this.client.set(this.keys.flags(sha), Buffer.from(payload as Uint8Array), 'PX', this.options.orphanTtlMillis, 'NX');
    return sha;
  }

  async hasCohort(cohortId: string, lastModified: number): Promise<boolean> {
    return (await this.client.exists(this.keys.cohort(cohortId, lastModified))) === 1;
  }

  /** Store one cohort version: the download body, gzipped off the main thread. */
  async putCohort(cohortId: string, lastModified: number, body: Uint8Array): Promise<void> {
    const key = this.keys.cohort(cohortId, lastModified);
    if ((await this.client.exists(key)) === 1) return;
    const packed = await gzipAsync()(body, { level: 4 });
    await this.client.set(key, packed, 'PX', this.options.orphanTtlMillis, 'NX');
  }

  /**
   * Flip meta to `manifest` (or only record the sync time when it is the
   * published one). The data keys must have been stored before.
   */
  async publish(manifest: FleetManifest, syncedAt: number): Promise<PublishResult> {
    const json = manifestJson(manifest);
    const fresh = this.keys.referenced(manifest);
    for (let attempt = 0; ; attempt++) {
      const [version, current] = await this.client.hmget(this.keys.meta, 'version', 'manifest');
      const old = parseMeta(version, current, null, null);
      const stale = old ? this.keys.referenced(old.manifest) : [];
      const r = (await this.client.eval(
        FLIP,
        2 + fresh.length + stale.length,
        this.keys.meta,
        this.keys.lease,
        ...fresh,
        ...stale,
        this.lease.token,
        json,
        String(syncedAt),
        this.writerId,
        String(this.options.graceMillis),
        this.keys.channel,
        String(fresh.length),
        current ?? '',
      )) as [number, (number | string)?];
      const code = Number(r[0]);
      if (code === -1) {
        this.lease.drop();
        return { kind: 'lease-lost' };
      }
      if (code === -2) return { kind: 'missing', key: String(r[1]) };
      if (code === -3) {
        if (attempt < 2) continue; // meta changed between our read and the flip: read it again
        return { kind: 'lease-lost' };
      }
      if (code === 0) return { kind: 'unchanged', version: Number(r[1]) };
      return { kind: 'published', version: code };
    }
  }
}
