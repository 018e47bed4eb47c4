/**
 * Last-known-good flags (config.persistence): every flag payload accepted from
 * Amplitude is written to a file (temp file in the same directory, then
 * rename: a reader never sees half a file), and start() falls back to that
 * file when Amplitude cannot be reached.
 *
 * File format (JSON): { format, savedAt, cohorts, flags } where `flags` is the
 * payload exactly as accepted and `cohorts` is the metadata of the cohorts
 * loaded at that time (id, groupType, size, lastModified: members are not
 * persisted; they are downloaded again once Amplitude is reachable).
 */
import { randomUUID } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Logger } from '../util/logger';

export const PERSISTENCE_FORMAT = 'amplitude-experiment-native/flags@1';

export interface PersistedFlags {
  format: typeof PERSISTENCE_FORMAT;
  /** When the payload was accepted (ISO 8601). */
  savedAt: string;
  cohorts: unknown[];
  /** The v2 flag configs. */
  flags: unknown[];
}

export class FlagPersistence {
  readonly file: string;
  private lastSaved: string | undefined;
  private writing: Promise<void> = Promise.resolve();
  private pending: { payload: string; cohorts: unknown[] } | undefined;

  constructor(
    file: string,
    private readonly logger: Logger,
  ) {
    this.file = path.resolve(file);
  }

  /** Queue a write of `payload` (skipped when it equals the last one written). Never throws. */
  save(payload: string | Uint8Array, cohorts: unknown[] = []): void {
    const text = typeof payload === 'string' ? payload : Buffer.from(payload).toString('utf8');
    if (text === this.lastSaved) return;
    const queued = this.pending !== undefined;
    this.pending = { payload: text, cohorts };
    if (queued) return; // the queued write will take the newest payload
    this.writing = this.writing.then(() => this.writePending());
  }

  /** Resolves once every queued write has finished (or failed and been logged). */
  flush(): Promise<void> {
    return this.writing;
  }

  private async writePending(): Promise<void> {
    const next = this.pending;
    this.pending = undefined;
    if (!next || next.payload === this.lastSaved) return;
    const body =
      `{"format":${JSON.stringify(PERSISTENCE_FORMAT)},"savedAt":${JSON.stringify(new Date().toISOString())},` +
      `"cohorts":${JSON.stringify(next.cohorts)},"flags":${next.payload}}\n`;
    // A random name opened exclusively ('wx'): another writer on the same path (a second client in this
    // process, or another container whose app is also PID 1 on a shared volume) never shares the temp file.
    const temp = `${this.file}.${randomUUID()}.tmp`;
    try {
      await fs.promises.mkdir(path.dirname(this.file), { recursive: true });
      const handle = await fs.promises.open(temp, 'wx', 0o600);
      try {
        await handle.writeFile(body);
        // On disk before the rename, so a crash cannot leave a renamed but empty file.
        await handle.sync();
      } finally {
        await handle.close();
      }
      await fs.promises.rename(temp, this.file);
      this.lastSaved = next.payload;
      this.logger.debug(`last-known-good flags written to ${this.file}`);
    } catch (err) {
      this.logger.error(`could not write last-known-good flags to ${this.file}: ${(err as Error).message}`);
      await fs.promises.rm(temp, { force: true }).catch(() => undefined);
    }
  }

  /** The persisted flags, or undefined (logged) when the file is missing or unusable. */
  async load(): Promise<PersistedFlags | undefined> {
    let text: string;
    try {
      text = await fs.promises.readFile(this.file, 'utf8');
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') this.logger.warn(`no last-known-good flags at ${this.file}`);
      else this.logger.error(`cannot read last-known-good flags at ${this.file}: ${(err as Error).message}`);
      return undefined;
    }
    try {
      const parsed = JSON.parse(text) as Partial<PersistedFlags>;
      if (parsed.format !== PERSISTENCE_FORMAT || !Array.isArray(parsed.flags)) {
        throw new Error(`not a ${PERSISTENCE_FORMAT} file`);
      }
      return {
        format: PERSISTENCE_FORMAT,
        savedAt: String(parsed.savedAt),
        cohorts: Array.isArray(parsed.cohorts) ? parsed.cohorts : [],
        flags: parsed.flags,
      };
    } catch (err) {
      this.logger.error(`last-known-good flags at ${this.file} are unusable: ${(err as Error).message}`);
      return undefined;
    }
  }
}
