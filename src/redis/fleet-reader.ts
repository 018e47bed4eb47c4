/**
 * Fleet reader side: a cheap version check (HMGET of two small fields),
 * the manifest when the version moved, and the data keys it names. Also
 * the optional pub/sub wake-up on the updates channel.
 */
import { promisify } from 'node:util';
import type { RedisClient, RedisConnection } from './connection';
import { type FleetKeys, type FleetMeta, parseMeta } from './fleet-layout';
import { lazy } from '../util/lazy';
import { zlib } from '../util/builtins';

const gunzipAsync = lazy(() => promisify(zlib().gunzip));

export class FleetReader {
  constructor(
    private readonly client: RedisClient,
    private readonly keys: FleetKeys,
  ) {}

  /**
   * Published version, when it was published and the last sync time; undefined when nothing was published
   * yet. `publishedAt` tells versions apart when Redis lost its data and the count started again.
   */
  async version(): Promise<{ version: number; publishedAt: number; syncedAt: number } | undefined> {
    const [v, p, s] = await this.client.hmget(this.keys.meta, 'version', 'publishedAt', 'syncedAt');
    if (v === null) return undefined;
    return { version: Number(v), publishedAt: Number(p ?? 0), syncedAt: Number(s ?? 0) };
  }

  /** The whole meta (version and manifest read together, so they match). */
  async meta(): Promise<(FleetMeta & { publishedAt: number }) | undefined> {
    const [v, m, s, w, p] = await this.client.hmget(this.keys.meta, 'version', 'manifest', 'syncedAt', 'writer', 'publishedAt');
    const meta = parseMeta(v, m, s, w);
    return meta && { ...meta, publishedAt: Number(p ?? 0) };
  }

  /** The flag payload of a manifest; undefined when the key is gone (expired after a newer version). */
  async flags(sha: string): Promise<Buffer | undefined> {
    return (await this.client.getBuffer(this.keys.flags(sha))) ?? undefined;
  }

  /** One cohort version's download body (un-gzipped); undefined when gone. */
  async cohort(cohortId: string, lastModified: number): Promise<Buffer | undefined> {
    const packed = await this.client.getBuffer(this.keys.cohort(cohortId, lastModified));
    return packed ? gunzipAsync()(packed) : undefined;
  }

  /**
   * Call `onVersion` for each version announced on the updates channel.
   * Messages can be missed (reconnects): the version check stays the
   * source of truth. Returns an unsubscribe function.
   */
  subscribe(connection: RedisConnection, onVersion: (version: number) => void): () => void {
    const sub = connection.subscriber();
    const onMessage = (channel: string, message: string): void => {
      if (channel === this.keys.channel) onVersion(Number(message));
    };
    // Without an offline queue a SUBSCRIBE sent before the connection is ready fails: send it on each 'ready'.
    const onReady = (): void => void sub.subscribe(this.keys.channel).catch(() => undefined);
    sub.on('message', onMessage);
    sub.on('ready', onReady);
    if (sub.status === 'ready') onReady();
    return () => {
      sub.off('message', onMessage);
      sub.off('ready', onReady);
      sub.disconnect();
    };
  }
}
