/**
 * The Redis key layout this SDK writes in fleet mode. Every key of one
 * deployment shares the hash tag `{<hash>}` so that, in Redis Cluster, they
 * sit in one slot and one Lua script can check and flip them together.
 * The deployment key itself never appears in Redis: `<hash>` is the first
 * 16 hex digits of its SHA-256.
 *
 *   {prefix}:fleet:{<hash>}:lease                   STRING  writer token (SET NX PX, renewed, compare-and-delete)
 *   {prefix}:fleet:{<hash>}:meta                    HASH    version, manifest (JSON), syncedAt (ms), writer, publishedAt
 *   {prefix}:fleet:{<hash>}:flags:<sha256>          STRING  the flag payload as fetched (content-addressed)
 *   {prefix}:fleet:{<hash>}:cohort:<id>:<lastMod>   STRING  gzip of the cohort download body
 *   {prefix}:fleet:{<hash>}:updates                 channel PUBLISH <version> after each flip
 */
import { crypto } from '../util/builtins';

/** What one published version consists of (stored as JSON in meta.manifest). */
export interface FleetManifest {
  /** SHA-256 (hex) of the flag payload. */
  flags: string;
  /** Cohort id -> lastModified of the version published for it. */
  cohorts: Record<string, number>;
}

/** What meta holds about the published snapshot. */
export interface FleetMeta {
  version: number;
  manifest: FleetManifest;
  /** When the writer last completed a fetch from upstream (ms since epoch), changed or not. */
  syncedAt: number;
  /** Writer id (host:pid:random) of the process that last synced. */
  writer: string;
}

export class FleetKeys {
  readonly base: string;
  readonly lease: string;
  readonly meta: string;
  readonly channel: string;

  constructor(prefix: string, deploymentKey: string) {
    const hash = crypto().createHash('sha256').update(deploymentKey).digest('hex').slice(0, 16);
    this.base = `${prefix}:fleet:{${hash}}`;
    this.lease = `${this.base}:lease`;
    this.meta = `${this.base}:meta`;
    this.channel = `${this.base}:updates`;
  }

  flags(sha: string): string {
    return `${this.base}:flags:${sha}`;
  }

  cohort(cohortId: string, lastModified: number): string {
    return `${this.base}:cohort:${cohortId}:${lastModified}`;
  }

  /** Every data key a manifest references (flags first). */
  referenced(m: FleetManifest): string[] {
    return [
      this.flags(m.flags),
      ...Object.keys(m.cohorts)
        .sort()
        .map((id) => this.cohort(id, m.cohorts[id])),
    ];
  }
}

export function sha256(payload: string | Uint8Array): string {
  return crypto().createHash('sha256').update(payload).digest('hex');
}

/** One canonical JSON per manifest (sorted cohort ids), so equal content compares equal as a string. */
export function manifestJson(m: FleetManifest): string {
  const cohorts: Record<string, number> = {};
  for (const id of Object.keys(m.cohorts).sort()) cohorts[id] = m.cohorts[id];
  return JSON.stringify({ flags: m.flags, cohorts });
}

/** Parse meta fields; undefined when nothing (valid) was published yet. */
export function parseMeta(
  version: string | null,
  manifest: string | null,
  syncedAt: string | null,
  writer: string | null,
): FleetMeta | undefined {
  if (version === null || manifest === null) return undefined;
  let m: unknown;
  try {
    m = JSON.parse(manifest);
  } catch {
    return undefined;
  }
  const o = m as FleetManifest;
  if (typeof o !== 'object' || o === null || typeof o.flags !== 'string' || typeof o.cohorts !== 'object' || o.cohorts === null)
    return undefined;
  for (const id of Object.keys(o.cohorts)) if (typeof o.cohorts[id] !== 'number') return undefined;
  return { version: Number(version), manifest: o, syncedAt: Number(syncedAt ?? 0), writer: writer ?? '' };
}
