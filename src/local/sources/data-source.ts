/**
 * Flags pushed by an in-process data source (config.dataSource, e.g.
 * TestData): subscribed when the client is constructed, each payload
 * installed at once so the next evaluation sees it.
 */
import type { FlagDataSource } from '../data-source';
import type { Logger } from '../../util/logger';
import { errorMessage } from '../../util/error-message';
import { catchRejection } from '../../util/rejection';
import type { FlagSink, FlagSource } from './types';

export class DataSourceSource implements FlagSource {
  readonly name = 'data-source';
  private attached = false;
  private unsubscribe: (() => unknown) | undefined;

  constructor(
    private readonly dataSource: FlagDataSource,
    private readonly logger: Logger,
  ) {}

  /** Throws what subscribe() throws: the client's constructor, or start() on a restart, reports it. */
  attach(sink: FlagSink): void {
    if (this.attached) return;
    const handle: unknown = this.dataSource.subscribe((payload) => void sink.install(payload, this.name));
    this.attached = true;
    this.unsubscribe = this.unsubscriberOf(handle);
  }

  /** Nothing to wait for: the data source pushed its flags at attach(). */
  start(sink: FlagSink): Promise<void> {
    this.attach(sink);
    return Promise.resolve();
  }

  stop(): void {
    const unsubscribe = this.unsubscribe;
    this.unsubscribe = undefined;
    if (!unsubscribe) return;
    const report = (err: unknown): void => this.logger.error(`config.dataSource: unsubscribing failed: ${errorMessage(err)}`);
    try {
      catchRejection(unsubscribe(), report);
    } catch (err) {
      report(err);
    }
  }

  /** What subscribe() returned, as a function to call on stop(): a function, or an object's unsubscribe(). */
  private unsubscriberOf(handle: unknown): (() => unknown) | undefined {
    if (typeof handle === 'function') return handle as () => unknown;
    try {
      if (handle !== null && typeof handle === 'object') {
        const subscription = handle as { unsubscribe?: unknown };
        // Called as a method: an RxJS Subscription needs its `this`.
        if (typeof subscription.unsubscribe === 'function') return () => (handle as { unsubscribe(): unknown }).unsubscribe();
      }
    } catch {
      // A throwing `unsubscribe` getter: as unusable as a missing one.
    }
    this.logger.error(
      'config.dataSource.subscribe() must return a function or an object with an unsubscribe() method; ' +
        'the client cannot unsubscribe from it on stop() or close()',
    );
    return undefined;
  }
}
