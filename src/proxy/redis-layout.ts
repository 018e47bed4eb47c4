/**
 * Reading what Amplitude's evaluation-proxy keeps in Redis (storage protocol
 * v4). Read-only: no command here writes, and none may (the proxy owns these
 * keys). Every command touches one key, so this works against Redis Cluster
 * (only the per-cohort keys carry a hash tag).
 *
 *   {p}:v4:projects                                        SET  project ids
 *   {p}:v4:projects:{pid}:deployments                      HASH deployment key -> {"id","projectId","label","key"}
 *   {p}:v4:projects:{pid}:deployments:{key}:flags          HASH flag key -> flag JSON (one element of /sdk/v2/flags)
 *   {p}:v4:projects:{pid}:cohorts                          HASH cohort id -> {"cohortId","groupType","size","lastModified"}
 *   {p}:v4:{projects:{pid}:cohort:{cid}}:blob:{lastModified}         STRING base64(gzip(cohort JSON))
 *   {p}:v4:{projects:{pid}:cohort:{cid}}:{groupType}:{lastModified}  SET  member ids
 *
 * A cohort version is published by writing its description last, so the
 * description names a version whose blob (or member set) exists, until the
 * proxy publishes the next version and lets this one expire.
 */
import { promisify } from 'node:util';
import { gunzip } from 'node:zlib';

/** The ioredis commands this reader uses (a Redis or Cluster instance has them all). */
export interface ProxyRedisCommands {
  smembers(key: string): Promise<string[]>;
  hget(key: string, field: string): Promise<string | null>;
  hgetall(key: string): Promise<Record<string, string>>;
  getBuffer(key: string): Promise<Buffer | null>;
  sscan(key: string, cursor: string | number, countToken: 'COUNT', count: number): Promise<[string, string[]]>;
}

export const STORAGE_PROTOCOL = 'v4';

export function proxyKeys(prefix: string) {
  const base = `${prefix}:${STORAGE_PROTOCOL}`;
  return {
    projects: `${base}:projects`,
    deployments: (projectId: string) => `${base}:projects:${projectId}:deployments`,
    flags: (projectId: string, deploymentKey: string) => `${base}:projects:${projectId}:deployments:${deploymentKey}:flags`,
    cohorts: (projectId: string) => `${base}:projects:${projectId}:cohorts`,
    cohortBlob: (projectId: string, cohortId: string, lastModified: number) =>
      `${base}:{projects:${projectId}:cohort:${cohortId}}:blob:${lastModified}`,
    cohortMembers: (projectId: string, cohortId: string, groupType: string, lastModified: number) =>
      `${base}:{projects:${projectId}:cohort:${cohortId}}:${groupType}:${lastModified}`,
  };
}

/** The layout is not there (or not for this deployment key): retrying now will not fix it. */
export class EvaluationProxyLayoutError extends Error {
  override readonly name = 'EvaluationProxyLayoutError';
  /** start() rejects with it at once (see isPermanentSourceError). */
  readonly permanent = true;
}

/** One published cohort version, as the description hash holds it. */
export interface CohortDescription {
  cohortId: string;
  groupType: string;
  size: number;
  lastModified: number;
}

export function parseDescription(text: string): CohortDescription | undefined {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (v === null || typeof v !== 'object') return undefined;
  const d = v as Record<string, unknown>;
  if (typeof d.cohortId !== 'string' || typeof d.groupType !== 'string') return undefined;
  if (typeof d.lastModified !== 'number' || !Number.isFinite(d.lastModified)) return undefined;
  return { cohortId: d.cohortId, groupType: d.groupType, size: typeof d.size === 'number' ? d.size : 0, lastModified: d.lastModified };
}

/** Members read per SSCAN call when a cohort has no blob. */
const SSCAN_COUNT = 10_000;
const gunzipAsync = promisify(gunzip);

/** A deployment key in messages: enough to recognise, not enough to use. */
export function maskKey(key: string): string {
  return key.length <= 8 ? '…' : `${key.slice(0, 6)}…`;
}

export class ProxyRedisLayout {
  readonly keys: ReturnType<typeof proxyKeys>;

  constructor(
    private redis: ProxyRedisCommands,
    readonly prefix: string,
    private readonly deploymentKey: string,
  ) {
    this.keys = proxyKeys(prefix);
  }

  /** The project whose deployments hash holds this deployment key; EvaluationProxyLayoutError when none does. */
  async findProject(): Promise<string> {
    const projects = await this.redis.smembers(this.keys.projects);
    if (projects.length === 0) {
      throw new EvaluationProxyLayoutError(
        `no evaluation-proxy data in Redis: the set ${this.keys.projects} is empty or missing ` +
          `(is the proxy writing to this Redis, with redisConfig.prefix "${this.prefix}"?)`,
      );
    }
    for (const projectId of projects.sort()) {
      if ((await this.redis.hget(this.keys.deployments(projectId), this.deploymentKey)) !== null) return projectId;
    }
    throw new EvaluationProxyLayoutError(
      `no evaluation-proxy project knows deployment key ${maskKey(this.deploymentKey)}: none of the deployments hashes of ` +
        `projects ${projects.join(', ')} (${this.keys.deployments('<projectId>')}) has it ` +
        `(add the deployment to the proxy's configuration, or check the key)`,
    );
  }

  /** True while the project's deployments hash still lists this deployment key. */
  async hasDeployment(projectId: string): Promise<boolean> {
    return (await this.redis.hget(this.keys.deployments(projectId), this.deploymentKey)) !== null;
  }

  /** Flag key -> flag JSON text. Empty when the hash does not exist (Redis drops empty hashes). */
  readFlags(projectId: string): Promise<Record<string, string>> {
    return this.redis.hgetall(this.keys.flags(projectId, this.deploymentKey));
  }

  /** Raw description texts by cohort id. */
  readDescriptions(projectId: string): Promise<Record<string, string>> {
    return this.redis.hgetall(this.keys.cohorts(projectId));
  }

  readDescription(projectId: string, cohortId: string): Promise<string | null> {
    return this.redis.hget(this.keys.cohorts(projectId), cohortId);
  }

  /**
   * The cohort payload (the JSON `GET /sdk/v1/cohort/{id}` answers) of the
   * version `d` names: its blob, else its member set. Undefined when neither
   * exists (expired, or not written yet). A version with no members may have
   * neither: it is an empty cohort.
   */
  async readCohortBody(projectId: string, d: CohortDescription): Promise<Buffer | undefined> {
    const blob = await this.redis.getBuffer(this.keys.cohortBlob(projectId, d.cohortId, d.lastModified));
    if (blob !== null) {
      const gz = Buffer.from(blob.toString('latin1'), 'base64');
      try {
        return await gunzipAsync(gz);
      } catch (err) {
        throw new Error(
          `cohort ${d.cohortId} blob ${this.keys.cohortBlob(projectId, d.cohortId, d.lastModified)} is not base64 gzip: ${(err as Error).message}`,
        );
      }
    }
    const membersKey = this.keys.cohortMembers(projectId, d.cohortId, d.groupType, d.lastModified);
    const chunks: string[] = [];
    let cursor = '0';
    let count = 0;
    do {
      const [next, members] = await this.redis.sscan(membersKey, cursor, 'COUNT', SSCAN_COUNT);
      if (members.length > 0) {
        chunks.push(JSON.stringify(members).slice(1, -1));
        count += members.length;
      }
      cursor = next;
    } while (cursor !== '0');
    if (count === 0 && d.size > 0) return undefined;
    const head = JSON.stringify({ cohortId: d.cohortId, groupType: d.groupType, lastModified: d.lastModified, size: d.size });
    return Buffer.from(`${head.slice(0, -1)},"memberIds":[${chunks.join(',')}]}`);
  }
}
