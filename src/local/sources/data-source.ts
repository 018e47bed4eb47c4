/**
 * Flags pushed by an in-process data source (config.dataSource, e.g.
 * TestData): subscribed when the client is constructed, each payload
 * installed at once so the next evaluation sees it.
 */
import type { FlagDataSource } from '../data-source';
import type { FlagSink, FlagSource } from './types';

export class DataSourceSource implements FlagSource {
  readonly name = 'data-source';
  private unsubscribe: (() => void) | undefined;

  constructor(private readonly dataSource: FlagDataSource) {}

  attach(sink: FlagSink): void {
    if (this.unsubscribe) return;
    this.unsubscribe = this.dataSource.subscribe((payload) => void sink.install(payload, this.name));
  }

  /** Nothing to wait for: the data source pushed its flags at attach(). */
  start(sink: FlagSink): Promise<void> {
    this.attach(sink);
    return Promise.resolve();
  }

  stop(): void {
    this.unsubscribe?.();
    this.unsubscribe = undefined;
  }
}
