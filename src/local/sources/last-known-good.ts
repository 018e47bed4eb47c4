/**
 * The flags saved by the last run (config.persistence), used as the start
 * fallback when the primary source cannot deliver. Installs them only when
 * nothing better is in force (no flags, or bootstrap flags).
 */
import type { FlagPersistence } from '../persistence';
import type { FlagSink, FlagSource } from './types';

export class LastKnownGoodSource implements FlagSource {
  readonly name = 'last-known-good';
  /** When the saved flags were written (ISO 8601), once loaded. */
  savedAt: string | undefined;

  constructor(private readonly persistence: FlagPersistence) {}

  async start(sink: FlagSink): Promise<void> {
    const saved = await this.persistence.load();
    if (!saved) throw new Error(`no usable last-known-good flags at ${this.persistence.file}`);
    this.savedAt = saved.savedAt;
    const current = sink.installedFrom;
    if (current !== undefined && current !== 'bootstrap') return; // the primary delivered meanwhile
    if (!sink.install(JSON.stringify(saved.flags), this.name)) {
      throw new Error(`the last-known-good flags at ${this.persistence.file} are unusable (see the logged error)`);
    }
  }

  describe(): string {
    return `the last-known-good flags saved at ${this.savedAt ?? '(not loaded)'} in ${this.persistence.file}`;
  }

  stop(): void {
    // Nothing runs in the background.
  }
}
