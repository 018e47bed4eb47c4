/**
 * Cohort membership storage behind the engine boundary. With the native
 * addon, members live in C++ (native/core/cohort_store*, member_set*, native/napi/cohort_store_wrap*): the
 * download's bytes are parsed on a libuv worker thread and never become JS
 * strings. Without it (JS engine fallback), a Set per cohort, as the
 * official SDK keeps them.
 */
import type { NativeCohortStoreHandle } from './addon';
import { loadEngine, loadNativeAddon } from './index';

/** What the store knows about one loaded cohort. */
export interface CohortInfo {
  cohortId: string;
  groupType: string;
  groupTypeId: number;
  lastComputed: number;
  lastModified: number;
  /** `size` as reported by the server. */
  size: number;
  /** Distinct member ids stored. */
  memberCount: number;
  /** Bytes held for this cohort (native: arena + index; js: an estimate). */
  memoryBytes: number;
}

export interface CohortStore {
  readonly kind: 'native' | 'js';
  /**
   * Parse a cohort download body (200 of `GET /sdk/v1/cohort/{id}`) and add
   * or replace the cohort it describes (named `cohortId` when the body has
   * none). Rejects, leaving the store unchanged, when the body is not a
   * valid cohort payload. Do not modify `body` until the promise settles.
   */
  load(body: Uint8Array, cohortId: string): Promise<CohortInfo>;
  remove(cohortId: string): boolean;
  has(cohortId: string): boolean;
  info(cohortId: string): CohortInfo | undefined;
  ids(): string[];
  /**
   * The ids among `cohortIds` (in that order) of loaded cohorts of
   * `groupType` that contain `member`. A non-string member is in none.
   */
  memberOf(groupType: string, member: unknown, cohortIds: readonly string[]): string[];
  /** Bytes held by all cohorts. */
  memoryBytes(): number;
  /**
   * Give freed heap memory back to the OS (glibc malloc_trim, on a worker
   * thread). A large download leaves its freed socket chunks resident
   * otherwise. Resolves false when nothing was done.
   */
  releaseFreeMemory(): Promise<boolean>;
}

class NativeCohortStore implements CohortStore {
  readonly kind = 'native' as const;
  private readonly handle: NativeCohortStoreHandle;

  constructor(handle: NativeCohortStoreHandle) {
    this.handle = handle;
  }

  load(body: Uint8Array, cohortId: string): Promise<CohortInfo> {
    return this.handle.load(body, cohortId);
  }

  remove(cohortId: string): boolean {
    return this.handle.remove(cohortId);
  }

  has(cohortId: string): boolean {
    return this.handle.has(cohortId);
  }

  info(cohortId: string): CohortInfo | undefined {
    return this.handle.info(cohortId);
  }

  ids(): string[] {
    return this.handle.ids();
  }

  memberOf(groupType: string, member: unknown, cohortIds: readonly string[]): string[] {
    if (typeof member !== 'string') return [];
    return this.handle.memberOf(groupType, member, cohortIds);
  }

  memoryBytes(): number {
    return this.handle.memoryBytes();
  }

  releaseFreeMemory(): Promise<boolean> {
    return this.handle.releaseFreeMemory();
  }
}

interface JsCohort {
  info: CohortInfo;
  members: Set<unknown>;
}

/** Pure-JS store: the official SDK's representation (a Set of member ids per cohort). */
export class JsCohortStore implements CohortStore {
  readonly kind = 'js' as const;
  private readonly cohorts = new Map<string, JsCohort>();

  async load(body: Uint8Array, cohortId: string): Promise<CohortInfo> {
    // Yield first, as the native store does: loading is never synchronous.
    await Promise.resolve();
    let parsed: unknown;
    try {
      parsed = JSON.parse(Buffer.from(body.buffer, body.byteOffset, body.byteLength).toString('utf8'));
    } catch (err) {
      throw new Error(`cohort payload not parsed: ${(err as Error).message}`);
    }
    if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
      throw new Error('cohort payload not parsed: not a JSON object');
    }
    const p = parsed as Record<string, unknown>;
    if (!Array.isArray(p.memberIds)) throw new Error('cohort payload not parsed: cohort payload has no memberIds array');
    const members = new Set<unknown>(p.memberIds.filter((m) => typeof m === 'string'));
    const num = (v: unknown): number => (typeof v === 'number' ? v : 0);
    let bytes = 0;
    for (const m of members) bytes += 40 + (m as string).length;
    const info: CohortInfo = {
      cohortId: typeof p.cohortId === 'string' ? p.cohortId : cohortId,
      groupType: typeof p.groupType === 'string' ? p.groupType : '',
      groupTypeId: num(p.groupTypeId),
      lastComputed: num(p.lastComputed),
      lastModified: num(p.lastModified),
      size: num(p.size),
      memberCount: members.size,
      memoryBytes: bytes,
    };
    this.cohorts.set(info.cohortId, { info, members });
    return { ...info };
  }

  remove(cohortId: string): boolean {
    return this.cohorts.delete(cohortId);
  }

  has(cohortId: string): boolean {
    return this.cohorts.has(cohortId);
  }

  info(cohortId: string): CohortInfo | undefined {
    const c = this.cohorts.get(cohortId);
    return c ? { ...c.info } : undefined;
  }

  ids(): string[] {
    return Array.from(this.cohorts.keys());
  }

  memberOf(groupType: string, member: unknown, cohortIds: readonly string[]): string[] {
    const out: string[] = [];
    if (typeof member !== 'string') return out;
    for (const id of cohortIds) {
      const c = this.cohorts.get(id);
      if (c && c.info.groupType === groupType && c.members.has(member)) out.push(id);
    }
    return out;
  }

  releaseFreeMemory(): Promise<boolean> {
    return Promise.resolve(false);
  }

  memoryBytes(): number {
    let total = 0;
    for (const c of this.cohorts.values()) total += c.info.memoryBytes;
    return total;
  }
}

/**
 * A new, empty cohort store: native when the native engine is in use, else
 * the JS one. `kind` forces one (tests).
 */
export function createCohortStore(kind?: 'native' | 'js'): CohortStore {
  if (kind === 'js') return new JsCohortStore();
  if (kind === 'native' || loadEngine().kind === 'native') {
    try {
      return new NativeCohortStore(new (loadNativeAddon().CohortStore)());
    } catch (err) {
      if (kind === 'native') throw err;
    }
  }
  return new JsCohortStore();
}
