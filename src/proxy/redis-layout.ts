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
import { once } from 'node:events';
import { zlib } from '../util/builtins';

/** The ioredis commands this reader uses (a Redis or Cluster instance has them all). */
export interface ProxyRedisCommands {
  smembers(key: string): Promise<string[]>;
  hget(key: string, field: string): Promise<string | null>;
  hgetall(key: string): Promise<Record<string, string>>;
  strlen(key: string): Promise<number>;
  getrangeBuffer(key: string, start: number, end: number): Promise<Buffer>;
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
  return {
    cohortId: d.cohortId,
    groupType: d.groupType,
    size: typeof d.size === 'number' ? d.size : 0,
    lastModified: d.lastModified,
  };
}

/** Members read per SSCAN call when a cohort has no blob. */
const SSCAN_COUNT = 5_000;
/**
 * Base64 characters read per GETRANGE (a multiple of 4, so each piece
 * decodes on its own). A blob is read, decoded and inflated piece by piece:
 * no command returns tens of megabytes, and the event loop is never blocked
 * decoding a whole blob.
 */
export const BLOB_CHUNK_CHARS = 1 << 20;

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
    const blobKey = this.keys.cohortBlob(projectId, d.cohortId, d.lastModified);
    const body = await this.readBlob(blobKey);
    if (body !== undefined) return body;
    const membersKey = this.keys.cohortMembers(projectId, d.cohortId, d.groupType, d.lastModified);
    // Each SSCAN page is encoded to bytes at once: no string of a million ids is ever built.
    const head = JSON.stringify({ cohortId: d.cohortId, groupType: d.groupType, lastModified: d.lastModified, size: d.size });
    const parts: Buffer[] = [Buffer.from(`${head.slice(0, -1)},"memberIds":[`)];
    let cursor = '0';
    let count = 0;
    do {
      const [next, members] = await this.redis.sscan(membersKey, cursor, 'COUNT', SSCAN_COUNT);
      if (members.length > 0) {
        parts.push(Buffer.from((count > 0 ? ',' : '') + JSON.stringify(members).slice(1, -1)));
        count += members.length;
      }
      cursor = next;
    } while (cursor !== '0');
    if (count === 0 && d.size > 0) return undefined;
    parts.push(Buffer.from(']}'));
    return Buffer.concat(parts);
  }

  /**
   * A blob's JSON (base64 of gzip), read in GETRANGE pieces, decoded and
   * inflated as they arrive. Undefined when the key does not exist or
   * disappears while being read (expired: the caller reads the description
   * again). Throws when it is not base64 gzip.
   */
  private async readBlob(key: string): Promise<Buffer | undefined> {
    const length = await this.redis.strlen(key);
    if (length === 0) return undefined;
    const out = new InflatedBody(await this.uncompressedSize(key, length));
    const inflater = zlib().createGunzip({ chunkSize: 256 * 1024 });
    inflater.on('data', (chunk: Buffer) => out.push(chunk));
    const ended = once(inflater, 'end');
    ended.catch(() => undefined);
    try {
      for (let offset = 0; offset < length; offset += BLOB_CHUNK_CHARS) {
        const end = Math.min(length, offset + BLOB_CHUNK_CHARS);
        const piece = await this.redis.getrangeBuffer(key, offset, end - 1);
        if (piece.length !== end - offset) return undefined;
        if (!inflater.write(Buffer.from(piece.toString('latin1'), 'base64'))) await once(inflater, 'drain');
      }
      inflater.end();
      await ended;
    } catch (err) {
      throw new Error(`blob ${key} is not base64 gzip: ${(err as Error).message}`);
    } finally {
      inflater.destroy();
    }
    return out.result();
  }

  /** The gzip trailer's ISIZE (from the last base64 characters), to allocate the inflated body once. */
  private async uncompressedSize(key: string, length: number): Promise<number | undefined> {
    if (length < 12) return undefined;
    const tail = Buffer.from((await this.redis.getrangeBuffer(key, length - 8, length - 1)).toString('latin1'), 'base64');
    if (tail.length < 4) return undefined;
    const size = tail.readUInt32LE(tail.length - 4);
    // gzip inflates at most ~1032:1; a larger claim is a corrupt trailer, not a size to allocate.
    return size <= Math.min(0x7fffffff, length * 1100) ? size : undefined;
  }
}

/** Inflated chunks copied into one buffer of the announced size; a list when the size was wrong or unknown. */
class InflatedBody {
  private buffer: Buffer | undefined;
  private offset = 0;
  private chunks: Buffer[] = [];

  constructor(size: number | undefined) {
    if (size !== undefined && size > 0) this.buffer = Buffer.allocUnsafeSlow(size);
  }

  push(chunk: Buffer): void {
    if (this.buffer !== undefined && this.offset + chunk.length <= this.buffer.length) {
      chunk.copy(this.buffer, this.offset);
    } else {
      if (this.buffer !== undefined) this.chunks.push(this.buffer.subarray(0, this.offset));
      this.buffer = undefined;
      this.chunks.push(chunk);
    }
    this.offset += chunk.length;
  }

  result(): Buffer {
    if (this.buffer !== undefined) return this.offset === this.buffer.length ? this.buffer : this.buffer.subarray(0, this.offset);
    return Buffer.concat(this.chunks, this.offset);
  }
}
