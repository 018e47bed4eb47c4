/** Flags from the SSE stream, with polling while the stream is down (see StreamingUpdater). */
import { StreamingUpdater } from '../stream';
import type { FlagPoller } from '../flag-poller';
import { createFlagPoller, STALE_AFTER_INTERVALS } from './poll';
import type { FlagSink, FlagSource, SourceContext } from './types';

export class StreamSource implements FlagSource {
  readonly name = 'stream';
  readonly staleAfterMillis: number;
  private sink: FlagSink | undefined;
  private readonly poller: FlagPoller;
  readonly updater: StreamingUpdater;

  constructor(ctx: SourceContext) {
    // The server's keep-alives (every 15 s) count as refreshes; polling's interval while it is down.
    this.staleAfterMillis = STALE_AFTER_INTERVALS * ctx.config.flagConfigPollingIntervalMillis;
    this.poller = createFlagPoller(ctx, () => this.sink);
    this.updater = new StreamingUpdater({
      apiKey: ctx.apiKey,
      streamServerUrl: ctx.config.streamServerUrl,
      connTimeoutMillis: ctx.config.streamFlagConnTimeoutMillis,
      http: ctx.http,
      logger: ctx.logger,
      poller: this.poller,
      onPayload: (payload) => this.sink?.submit(payload, 'stream') ?? false,
      onKeepAlive: () => this.sink?.refreshed('stream'),
      onFailure: (err) => this.sink?.reportError('stream', err),
      timings: ctx.internals.stream,
      metrics: ctx.metrics,
    });
  }

  start(sink: FlagSink, deadline: number): Promise<void> {
    this.sink = sink;
    return this.updater.start(deadline);
  }

  stop(): void {
    this.updater.stop();
    this.poller.stop();
  }
}
