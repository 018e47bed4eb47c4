/** GET /sdk/v2/flags: the configured flag payload (a JSON array), as Amplitude's flag server sends it. */
import type { Route } from '../types';
import { jsonError, unauthorized } from './util';

export const flagsRoute: Route = {
  name: 'flags',
  methods: ['GET'],
  path: '/sdk/v2/flags',
  handler(ctx) {
    if (!ctx.state.checkApiKey(ctx.req.headers.authorization)) return unauthorized();
    if (ctx.req.method !== 'GET') return jsonError(405, 'method not allowed');
    return {
      status: 200,
      headers: { 'content-type': 'application/json' },
      body: ctx.state.flagsJson,
    };
  },
};
