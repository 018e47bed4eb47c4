/**
 * GET /sdk/stream/v1/flags: Amplitude's SSE flag stream. Every message is
 * the full flag array; a single-space data message is a keep-alive. See
 * StreamHub for what tests can control.
 */
import type { Route } from '../types';
import { unauthorized } from './util';

export const streamRoute: Route = {
  name: 'stream',
  methods: ['GET'],
  path: '/sdk/stream/v1/flags',
  handler(ctx) {
    if (!ctx.state.checkApiKey(ctx.req.headers.authorization)) return unauthorized();
    ctx.log.status = 200;
    // The hub ends it when the server closes (close() calls closeAll) and forgets it when it closes: nothing else
    // may hold the response, or every stream ever opened would stay in memory until then.
    ctx.state.streams.open(ctx.res, ctx.state.flagsJson);
    return undefined;
  },
};
