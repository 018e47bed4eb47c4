/**
 * Flags from a JSON file (config.flagsFile): read at start(), reloaded when the
 * file changes. Changes are seen through fs.watch on the file's directory
 * (which also catches editors and tools that replace the file by rename) and,
 * as a fallback where fs.watch misses events (network file systems, some
 * containers), a poll of the file's size and mtime. A file that cannot be read
 * or parsed is logged and the last good flags stay.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Logger } from '../util/logger';

export interface FileFlagSourceOptions {
  path: string;
  pollIntervalMillis: number;
  logger: Logger;
  /** Install a payload; resolves false when it was not usable. */
  onPayload: (payload: string) => Promise<boolean>;
  /** Told when the file cannot be read (for status and events; logging stays here). */
  onError?: (error: unknown) => void;
}

/** Changes closer together than this are read once. */
const DEBOUNCE_MILLIS = 25;

export class FileFlagSource {
  private readonly file: string;
  private watcher: fs.FSWatcher | undefined;
  private pollTimer: NodeJS.Timeout | undefined;
  private debounce: NodeJS.Timeout | undefined;
  private lastSignature = '';
  private lastText: string | undefined;
  private reading: Promise<void> | undefined;
  private again = false;
  private stopped = false;

  constructor(private readonly options: FileFlagSourceOptions) {
    this.file = path.resolve(options.path);
  }

  /** Read the file once; rejects when it is missing or its flags are unusable. Then watch it. */
  async start(): Promise<void> {
    let text: string;
    try {
      text = await fs.promises.readFile(this.file, 'utf8');
    } catch (err) {
      throw new Error(`flags file ${this.file} cannot be read: ${(err as Error).message}`);
    }
    this.lastSignature = this.signature();
    this.lastText = text;
    if (!(await this.options.onPayload(text))) {
      throw new Error(`flags file ${this.file} holds no usable flag configs (see the logged error)`);
    }
    if (!this.stopped) this.watch();
  }

  stop(): void {
    this.stopped = true;
    this.watcher?.close();
    this.watcher = undefined;
    clearInterval(this.pollTimer);
    clearTimeout(this.debounce);
  }

  private watch(): void {
    try {
      const name = path.basename(this.file);
      this.watcher = fs.watch(path.dirname(this.file), { persistent: false }, (_event, changed) => {
        if (changed === null || changed === undefined || String(changed) === name) this.schedule();
      });
      this.watcher.on('error', (err) => {
        this.options.logger.debug(`fs.watch on ${this.file} failed (${err.message}); polling only`);
        this.watcher?.close();
        this.watcher = undefined;
      });
    } catch (err) {
      this.options.logger.debug(`fs.watch unavailable for ${this.file} (${(err as Error).message}); polling only`);
    }
    this.pollTimer = setInterval(() => {
      if (this.signature() !== this.lastSignature) this.schedule();
    }, this.options.pollIntervalMillis);
    this.pollTimer.unref();
  }

  /** size:mtime of the file, or '' when it is missing. */
  private signature(): string {
    try {
      const st = fs.statSync(this.file, { bigint: true });
      return `${st.size}:${st.mtimeNs}:${st.ino}`;
    } catch {
      return '';
    }
  }

  /** Read once, DEBOUNCE_MILLIS after the first of a burst of changes (not restarted by later ones: a poll faster than that would starve it). */
  private schedule(): void {
    if (this.stopped || this.debounce !== undefined) return;
    this.debounce = setTimeout(() => {
      this.debounce = undefined;
      void this.reload();
    }, DEBOUNCE_MILLIS);
    this.debounce.unref();
  }

  private async reload(): Promise<void> {
    if (this.reading) {
      this.again = true;
      return;
    }
    this.reading = this.readOnce().finally(() => {
      this.reading = undefined;
      if (this.again && !this.stopped) {
        this.again = false;
        void this.reload();
      }
    });
    return this.reading;
  }

  private async readOnce(): Promise<void> {
    const signature = this.signature();
    this.lastSignature = signature;
    if (signature === '') {
      this.options.logger.warn(`flags file ${this.file} is missing; keeping the last good flags`);
      this.options.onError?.(new Error(`flags file ${this.file} is missing`));
      return;
    }
    let text: string;
    try {
      text = await fs.promises.readFile(this.file, 'utf8');
    } catch (err) {
      this.options.logger.error(
        `flags file ${this.file} cannot be read (${(err as Error).message}); keeping the last good flags`,
      );
      this.options.onError?.(err);
      return;
    }
    if (this.stopped || text === this.lastText) return;
    this.lastText = text;
    if (await this.options.onPayload(text)) this.options.logger.debug(`reloaded flags from ${this.file}`);
  }
}
