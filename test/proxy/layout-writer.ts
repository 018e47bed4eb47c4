/**
 * Writes the evaluation-proxy's Redis layout (storage protocol v4) as the
 * proxy does, from the layout described in the shared fleet reference: the
 * projects set, the deployments hash, the flags hash, and per cohort version
 * the member set, the membership index, the blob (base64 of gzipped JSON)
 * and, last, the description that publishes it.
 */
import { gzipSync } from 'node:zlib';
import type { EvaluationFlag } from '../../src/types';

/** The ioredis commands the writer uses (Redis or Cluster). */
export interface WriterCommands {
  sadd(key: string, ...members: string[]): Promise<number>;
  hset(key: string, field: string, value: string): Promise<number>;
  hdel(key: string, ...fields: string[]): Promise<number>;
  set(key: string, value: string): Promise<unknown>;
  del(...keys: string[]): Promise<number>;
}

export interface LayoutCohort {
  cohortId: string;
  groupType?: string;
  lastModified: number;
  memberIds: readonly string[];
}

export interface PublishOptions {
  /** Write the blob (default true). */
  blob?: boolean;
  /** Write the member set (default true). */
  set?: boolean;
  /** Write the per-member membership index (default true; the bench skips it for 1M members). */
  memberships?: boolean;
}

export class ProxyLayoutWriter {
  readonly base: string;

  constructor(
    private readonly redis: WriterCommands,
    readonly projectId: string,
    readonly deploymentKey: string,
    prefix = 'amplitude',
  ) {
    this.base = `${prefix}:v4`;
  }

  get flagsKey(): string {
    return `${this.base}:projects:${this.projectId}:deployments:${this.deploymentKey}:flags`;
  }

  get cohortsKey(): string {
    return `${this.base}:projects:${this.projectId}:cohorts`;
  }

  blobKey(cohortId: string, lastModified: number): string {
    return `${this.base}:{projects:${this.projectId}:cohort:${cohortId}}:blob:${lastModified}`;
  }

  membersKey(cohortId: string, groupType: string, lastModified: number): string {
    return `${this.base}:{projects:${this.projectId}:cohort:${cohortId}}:${groupType}:${lastModified}`;
  }

  async writeProject(): Promise<void> {
    await this.redis.sadd(`${this.base}:projects`, this.projectId);
    await this.redis.hset(
      `${this.base}:projects:${this.projectId}:deployments`,
      this.deploymentKey,
      JSON.stringify({ id: `d-${this.projectId}`, projectId: this.projectId, label: 'production', key: this.deploymentKey }),
    );
  }

  /** One HSET per flag and one HDEL per flag no longer there, as the proxy refreshes (no transaction). */
  async writeFlags(flags: readonly EvaluationFlag[], previous: readonly string[] = []): Promise<void> {
    for (const f of flags) await this.redis.hset(this.flagsKey, f.key, JSON.stringify(f));
    const keep = new Set(flags.map((f) => f.key));
    for (const key of previous) if (!keep.has(key)) await this.redis.hdel(this.flagsKey, key);
  }

  async writeFlagField(key: string, raw: string): Promise<void> {
    await this.redis.hset(this.flagsKey, key, raw);
  }

  /** Member set, membership index, blob, then the description (which publishes the version). */
  async publishCohort(c: LayoutCohort, options: PublishOptions = {}): Promise<void> {
    const groupType = c.groupType ?? 'User';
    if (options.set !== false) {
      for (let i = 0; i < c.memberIds.length; i += 10_000) {
        await this.redis.sadd(this.membersKey(c.cohortId, groupType, c.lastModified), ...c.memberIds.slice(i, i + 10_000));
      }
    }
    if (options.memberships !== false) {
      for (const m of c.memberIds) {
        await this.redis.sadd(`${this.base}:projects:${this.projectId}:memberships:${groupType}:${m}`, c.cohortId);
      }
    }
    if (options.blob !== false) {
      await this.redis.set(this.blobKey(c.cohortId, c.lastModified), cohortBlob(c).toString('base64'));
    }
    await this.redis.hset(
      this.cohortsKey,
      c.cohortId,
      JSON.stringify({ cohortId: c.cohortId, groupType, size: c.memberIds.length, lastModified: c.lastModified }),
    );
  }
}

/** gzip of the cohort JSON the proxy stores as a blob: {cohortId, groupType, lastModified, size, memberIds}. */
export function cohortBlob(c: LayoutCohort): Buffer {
  const head = JSON.stringify({
    cohortId: c.cohortId,
    groupType: c.groupType ?? 'User',
    lastModified: c.lastModified,
    size: c.memberIds.length,
  });
  const parts: string[] = [];
  for (let i = 0; i < c.memberIds.length; i += 10_000) parts.push(JSON.stringify(c.memberIds.slice(i, i + 10_000)).slice(1, -1));
  return gzipSync(Buffer.from(`${head.slice(0, -1)},"memberIds":[${parts.join(',')}]}`));
}
