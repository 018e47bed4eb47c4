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
    ctx.state.streams.open(ctx.res, ctx.state.flagsJson);
    void ctx.closing.then(() => {
      if (!ctx.res.destroyed) ctx.res.end();
    });
    return undefined;
  },
};
