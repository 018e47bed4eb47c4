/** Flags from `GET {serverUrl}/sdk/v2/flags`, refreshed every flagConfigPollingIntervalMillis. */
import { FlagPoller } from '../flag-poller';
import { flagPollingIntervalMillis, type FlagSink, type FlagSource, type SourceContext } from './types';

/** A remote source is stale after this many polling intervals without a successful refresh. */
export const STALE_AFTER_INTERVALS = 3;

/** The `from` (status source, events) of flags the evaluation proxy answered over HTTP. */
export const EVALUATION_PROXY_HTTP = 'evaluation-proxy-http';

export function createFlagPoller(ctx: SourceContext, sink: () => FlagSink | undefined): FlagPoller {
  const poller: FlagPoller = new FlagPoller({
    apiKey: ctx.apiKey,
    serverUrl: ctx.config.serverUrl,
    proxyUrl: ctx.config.evaluationProxyConfig?.proxyUrl,
    pollingIntervalMillis: flagPollingIntervalMillis(ctx),
    requestTimeoutMillis: ctx.config.flagConfigPollerRequestTimeoutMillis,
    http: ctx.http,
    logger: ctx.logger,
    onPayload: (body) => sink()?.submit(body, poller.answeredByProxy ? EVALUATION_PROXY_HTTP : 'poll') ?? false,
    onError: (err) => sink()?.reportError('poll', err),
    metrics: ctx.metrics,
    failureBackoff: ctx.internals.flagPolling?.failureBackoff,
    initialBackoff: ctx.internals.flagPolling?.initialBackoff,
  });
  return poller;
}

export class PollSource implements FlagSource {
  readonly name = 'poll';
  readonly staleAfterMillis: number;
  private sink: FlagSink | undefined;
  private readonly poller: FlagPoller;
  private stopped = false;

  constructor(ctx: SourceContext) {
    this.staleAfterMillis = STALE_AFTER_INTERVALS * ctx.config.flagConfigPollingIntervalMillis;
    this.poller = createFlagPoller(ctx, () => this.sink);
  }

  async start(sink: FlagSink, deadline: number): Promise<void> {
    this.sink = sink;
    try {
      await this.poller.loadInitial(deadline);
    } finally {
      if (!this.stopped) this.poller.startPolling();
    }
  }

  stop(): void {
    this.stopped = true;
    this.poller.stop();
  }
}
