/**
 * `redisConfig: { mode: 'evaluation-proxy' }`: flags and cohorts read from
 * the Redis that Amplitude's evaluation-proxy writes (storage protocol v4).
 * Nothing is fetched from Amplitude and no cohort secret is needed.
 *
 * Start: wait for Redis (until the start deadline), find the project from the
 * deployment key, read the flags hash and submit it; the holder then asks
 * the cohort loader for the cohorts those flags reference, which come from
 * the description hash plus the blob (or member set) of the published
 * version, straight into the cohort store. A layout that is not there (no
 * project for the key, no flags hash) rejects start() at once with one error
 * saying what is missing.
 *
 * Refresh: every flagConfigPollingIntervalMillis, the flags hash is read and
 * submitted only when a field changed; cohort descriptions are read and only
 * cohorts whose lastModified changed are loaded. Redis errors keep the last
 * flags and cohorts (the connection reconnects with backoff on its own).
 */
import type { CohortStore } from '../engine/cohort-store';
import type { CohortLoader, FlagSink, FlagSource } from '../local/sources/types';
import { MemoryReleaser } from '../local/release-memory';
import { Backoff, sleep } from '../util/backoff';
import type { Logger } from '../util/logger';
import {
  type CohortDescription,
  EvaluationProxyLayoutError,
  parseDescription,
  type ProxyRedisCommands,
  ProxyRedisLayout,
} from './redis-layout';
import { errorMessage } from '../util/error-message';

/** Retry schedule for the first read at start (transient Redis errors), within the start deadline. */
export const START_RETRY_BACKOFF = Object.freeze({ minMillis: 100, maxMillis: 2_000, scalar: 2 });

export interface ProxyRedisReaderOptions {
  redis: ProxyRedisCommands;
  /** Resolves when the connection is ready; rejects at the deadline (or on an auth failure). */
  ready(deadline: number): Promise<void>;
  /** Closes the connection (called once, when both the source and the loader stopped). */
  close(): Promise<void> | void;
  prefix: string;
  deploymentKey: string;
  pollingIntervalMillis: number;
  logger: Logger;
  store: CohortStore;
}

/**
 * What the flag source and the cohort loader share: the layout reader, the
 * project found at start, and the connection (closed when both stopped).
 */
export class ProxyRedisReader {
  readonly layout: ProxyRedisLayout;
  projectId: string | undefined;
  private users = 2;

  constructor(readonly options: ProxyRedisReaderOptions) {
    this.layout = new ProxyRedisLayout(options.redis, options.prefix, options.deploymentKey);
  }

  release(): void {
    if (--this.users === 0) void Promise.resolve(this.options.close()).catch(() => undefined);
  }
}

/** A source is stale after this many polling intervals without a successful read (as the poller). */
export const STALE_AFTER_INTERVALS = 3;

export class EvaluationProxyRedisSource implements FlagSource {
  readonly name = 'evaluation-proxy';
  readonly staleAfterMillis: number;
  /** The refresh failing now: its first failure was logged. */
  private failing = false;
  private readonly abort = new AbortController();
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  /** The flags hash as last submitted (field -> JSON), to submit only changes. */
  private last: Record<string, string> | undefined;
  /** Corrupt fields already logged (flag key + value), so each is logged once. */
  private readonly reported = new Set<string>();

  constructor(private readonly reader: ProxyRedisReader) {
    this.staleAfterMillis = STALE_AFTER_INTERVALS * reader.options.pollingIntervalMillis;
  }

  describe(): string {
    return `the flags in Redis (evaluation-proxy layout, prefix "${this.reader.options.prefix}")`;
  }

  async start(sink: FlagSink, deadline: number): Promise<void> {
    const { options } = this.reader;
    this.sink = sink;
    const backoff = new Backoff(START_RETRY_BACKOFF);
    let lastError: unknown;
    try {
      await options.ready(deadline);
      while (!this.stopped) {
        try {
          await this.firstLoad(sink);
          return;
        } catch (err) {
          if (err instanceof EvaluationProxyLayoutError || this.stopped) throw err;
          lastError = err;
        }
        const wait = backoff.next();
        if (Date.now() + wait >= deadline) break;
        await sleep(wait, { signal: this.abort.signal }).catch(() => undefined);
      }
      throw lastError instanceof Error ? lastError : new Error('client stopped');
    } catch (err) {
      if (err instanceof EvaluationProxyLayoutError) options.logger.error(`redisConfig (evaluation-proxy): ${err.message}`);
      throw err;
    } finally {
      // Whatever start() ended with, keep trying in the background: Redis may come back, the proxy may sync.
      this.schedule();
    }
  }

  private async firstLoad(sink: FlagSink): Promise<void> {
    const layout = this.reader.layout;
    if (this.reader.projectId === undefined) this.reader.projectId = await layout.findProject();
    const projectId = this.reader.projectId;
    const fields = await layout.readFlags(projectId);
    if (Object.keys(fields).length === 0) {
      throw new EvaluationProxyLayoutError(
        `no flags hash ${layout.keys.flags(projectId, '<deploymentKey>')} for this deployment in project ${projectId} ` +
          `(the proxy has not stored its flags yet, or the deployment has none)`,
      );
    }
    if (!(await this.submit(sink, fields))) throw new Error('the flags in Redis were not usable (see the logged error)');
  }

  private schedule(): void {
    if (this.stopped || this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.refresh().finally(() => this.schedule());
    }, this.reader.options.pollingIntervalMillis);
    this.timer.unref();
  }

  private sink: FlagSink | undefined;

  /** One refresh: resolve the project if needed, read the flags hash, submit it when it changed. Never rejects. */
  private async refresh(): Promise<void> {
    const sink = this.sink;
    if (!sink || this.stopped) return;
    const layout = this.reader.layout;
    try {
      if (this.reader.projectId === undefined) this.reader.projectId = await layout.findProject();
      const projectId = this.reader.projectId;
      const fields = await layout.readFlags(projectId);
      if (Object.keys(fields).length === 0 && !(await layout.hasDeployment(projectId))) {
        this.reader.projectId = undefined; // moved, or removed from the proxy: look it up again next time
        throw new EvaluationProxyLayoutError(
          `the deployment key is no longer in ${layout.keys.deployments(projectId)}; keeping the last flags`,
        );
      }
      await this.submit(sink, fields);
      if (this.failing) {
        this.failing = false;
        this.reader.options.logger.info('flags are read from Redis again');
      }
    } catch (err) {
      if (this.stopped) return;
      if (!this.failing) {
        this.failing = true;
        this.reader.options.logger.warn(`reading flags from Redis failed (${errorMessage(err)}); the last flags keep serving`);
      }
      sink.reportError(this.name, err);
    }
  }

  /** Submit `fields` as a flag array unless they equal the last submission. Corrupt fields are left out (logged once). */
  private async submit(sink: FlagSink, fields: Record<string, string>): Promise<boolean> {
    if (this.last !== undefined && sameFields(this.last, fields)) {
      sink.refreshed(this.name);
      return true;
    }
    const parts: string[] = [];
    for (const key of Object.keys(fields).sort()) {
      const text = fields[key];
      let ok = false;
      try {
        const v: unknown = JSON.parse(text);
        ok = v !== null && typeof v === 'object' && !Array.isArray(v);
      } catch {
        ok = false;
      }
      if (ok) parts.push(text);
      else {
        const line = `${key}\u0000${text}`;
        if (!this.reported.has(line)) {
          this.reported.add(line);
          this.reader.options.logger.error(
            `flag ${JSON.stringify(key)} left out: its field in the evaluation-proxy flags hash is not a JSON object ` +
              `(${JSON.stringify(text.length > 80 ? text.slice(0, 80) + '…' : text)})`,
          );
        }
      }
    }
    const accepted = await sink.submit(`[${parts.join(',')}]`, this.name);
    if (accepted) this.last = fields;
    return accepted;
  }

  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.abort.abort(new Error('client stopped'));
    this.reader.release();
  }
}

function sameFields(a: Record<string, string>, b: Record<string, string>): boolean {
  const keys = Object.keys(a);
  if (keys.length !== Object.keys(b).length) return false;
  for (const k of keys) if (a[k] !== b[k]) return false;
  return true;
}

/** Cohorts from the evaluation-proxy's Redis layout into the client's cohort store. */
export class EvaluationProxyRedisCohorts implements CohortLoader {
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  /** Problems already logged (cohort id + version + what), so each is logged once. */
  private readonly reported = new Set<string>();
  private referenced: () => ReadonlySet<string> = () => new Set();
  private onChange: (changed: ReadonlySet<string>) => void = () => undefined;
  private running: Promise<void> = Promise.resolve();
  private readonly memory: MemoryReleaser;

  constructor(private readonly reader: ProxyRedisReader) {
    this.memory = new MemoryReleaser(reader.options.store);
  }

  private get store(): CohortStore {
    return this.reader.options.store;
  }

  async loadMissing(ids: ReadonlySet<string>): Promise<void> {
    const missing = Array.from(ids).filter((id) => !this.store.has(id));
    if (missing.length === 0) return;
    await this.serially(async () => {
      const projectId = this.reader.projectId;
      if (projectId === undefined) return;
      let descriptions: Record<string, string>;
      try {
        descriptions = await this.reader.layout.readDescriptions(projectId);
      } catch (err) {
        this.logOnce(
          `read:${errorMessage(err)}`,
          `cohorts could not be read from Redis (${errorMessage(err)}); retrying on the next refresh`,
        );
        return;
      }
      for (const id of missing) if (!this.store.has(id)) await this.load(projectId, id, descriptions[id]);
    });
  }

  installed(ids: ReadonlySet<string>): void {
    for (const id of this.store.ids()) if (!ids.has(id)) this.store.remove(id);
  }

  startRefresh(referenced: () => ReadonlySet<string>, onChange: (changed: ReadonlySet<string>) => void): void {
    this.referenced = referenced;
    this.onChange = onChange;
    this.schedule();
  }

  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.memory.stop();
    this.reader.release();
  }

  private schedule(): void {
    if (this.stopped || this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.refresh().finally(() => this.schedule());
    }, this.reader.options.pollingIntervalMillis);
    this.timer.unref();
  }

  /** Load the referenced cohorts whose published lastModified differs from the one held. Never rejects. */
  async refresh(): Promise<void> {
    const changed = new Set<string>();
    await this.serially(async () => {
      const projectId = this.reader.projectId;
      const ids = this.referenced();
      if (projectId === undefined || ids.size === 0) return;
      let descriptions: Record<string, string>;
      try {
        descriptions = await this.reader.layout.readDescriptions(projectId);
      } catch {
        return; // the flag source reports the outage; the held cohorts keep serving
      }
      for (const id of ids) {
        if (this.stopped) return;
        const d = descriptions[id] === undefined ? undefined : parseDescription(descriptions[id]);
        if (d !== undefined && this.store.info(id)?.lastModified === d.lastModified) continue;
        if (await this.load(projectId, id, descriptions[id])) changed.add(id);
      }
    });
    if (changed.size > 0 && !this.stopped) this.onChange(changed);
  }

  /** Loads run one at a time (large blobs), in call order. */
  private serially(fn: () => Promise<void>): Promise<void> {
    const next = this.running.then(fn, fn);
    this.running = next.catch(() => undefined);
    return next;
  }

  /**
   * Load the version `text` (a description) names. When its blob and member
   * set are gone (the proxy published a newer version in between and the
   * old one expired), read the description again and load that version.
   * Returns true when the store changed.
   */
  private async load(projectId: string, cohortId: string, text: string | undefined): Promise<boolean> {
    const layout = this.reader.layout;
    for (let attempt = 0; attempt < 2; attempt++) {
      if (text === undefined) {
        this.logOnce(
          `none:${cohortId}`,
          `cohort ${cohortId} is targeted by a flag but has no description in ${layout.keys.cohorts(projectId)} (the proxy has not loaded it yet); it matches no one until it has`,
        );
        return false;
      }
      const d = parseDescription(text);
      if (d === undefined) {
        this.logOnce(
          `bad:${cohortId}:${text}`,
          `cohort ${cohortId}: its description in ${layout.keys.cohorts(projectId)} is not valid (${JSON.stringify(text.slice(0, 80))})`,
        );
        return false;
      }
      try {
        const body = await layout.readCohortBody(projectId, d);
        if (body !== undefined) {
          const info = await this.store.load(body, cohortId);
          this.memory.afterLoad(body.length);
          this.reader.options.logger.debug(
            `cohort ${cohortId} loaded from Redis: ${info.memberCount} members (version ${d.lastModified})`,
          );
          return true;
        }
        const again = attempt === 0 ? await layout.readDescription(projectId, cohortId) : null;
        if (again !== null && again !== text) {
          text = again;
          continue;
        }
        const kept = this.store.has(cohortId) ? '; keeping the loaded members' : '';
        this.logOnce(
          `gone:${cohortId}:${d.lastModified}`,
          `cohort ${cohortId}: its description names version ${d.lastModified} but neither ${layout.keys.cohortBlob(projectId, cohortId, d.lastModified)} ` +
            `nor ${layout.keys.cohortMembers(projectId, cohortId, d.groupType, d.lastModified)} exists${kept}; retrying on the next refresh`,
        );
        return false;
      } catch (err) {
        const kept = this.store.has(cohortId) ? '; keeping the loaded members' : '';
        this.logOnce(
          `err:${cohortId}:${d.lastModified}:${errorMessage(err)}`,
          `cohort ${cohortId} not loaded from Redis (${errorMessage(err)})${kept}`,
        );
        return false;
      }
    }
    return false;
  }

  private logOnce(key: string, message: string): void {
    if (this.reported.has(key) || this.stopped) return;
    this.reported.add(key);
    this.reader.options.logger.error(message);
  }
}

export type { CohortDescription };
