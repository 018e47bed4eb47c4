/**
 * /sdk/v2/vardata: remote evaluation with this SDK's engine.
 * GET (the Node SDKs): user in X-Amp-Exp-User, base64url JSON.
 * POST (the Python SDK): user as the JSON body.
 * Optional X-Amp-Exp-Flag-Keys (base64url JSON array). The response is the
 * evaluation result keyed by flag key, default variants included.
 */
import type { Route, RouteContext, RouteResponse } from '../types';
import { decodeJsonHeader, jsonError, unauthorized } from './util';
import { errorMessage } from '../../util/error-message';

const CACHE_LIMIT = 10000;

function header(ctx: RouteContext, name: string): string | undefined {
  const v = ctx.req.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

function ok(body: Buffer): RouteResponse {
  return { status: 200, headers: { 'content-type': 'application/json' }, body };
}

export const vardataRoute: Route = {
  name: 'vardata',
  methods: ['GET', 'POST'],
  path: '/sdk/v2/vardata',
  handler(ctx) {
    const state = ctx.state;
    if (!state.checkApiKey(ctx.req.headers.authorization)) return unauthorized();
    const userText = ctx.req.method === 'POST' ? ctx.body.toString('utf8') : header(ctx, 'x-amp-exp-user');
    if (userText === undefined || userText === '') return jsonError(400, 'missing user (X-Amp-Exp-User header)');
    const keysHeader = header(ctx, 'x-amp-exp-flag-keys');
    const cacheKey = ctx.req.method + '\n' + userText + '\n' + (keysHeader ?? '');
    const cached = state.vardataCache.get(cacheKey);
    if (cached) return ok(cached);

    let user: unknown;
    try {
      user = ctx.req.method === 'POST' ? JSON.parse(userText) : decodeJsonHeader(userText);
    } catch {
      return jsonError(400, 'X-Amp-Exp-User is not base64url JSON');
    }
    if (user === null || typeof user !== 'object' || Array.isArray(user)) {
      return jsonError(400, 'user must be a JSON object');
    }
    let flagKeys: string[] | undefined;
    if (keysHeader !== undefined) {
      let keys: unknown;
      try {
        keys = decodeJsonHeader(keysHeader);
      } catch {
        return jsonError(400, 'X-Amp-Exp-Flag-Keys is not base64url JSON');
      }
      if (!Array.isArray(keys) || !keys.every((k) => typeof k === 'string')) {
        return jsonError(400, 'X-Amp-Exp-Flag-Keys must be a JSON array of strings');
      }
      flagKeys = keys;
    }
    let body: Buffer;
    try {
      const results = state.snapshot().evaluate(user, flagKeys);
      body = Buffer.from(JSON.stringify(results), 'utf8');
    } catch (e) {
      return jsonError(500, 'evaluation failed: ' + errorMessage(e));
    }
    if (state.vardataCache.size >= CACHE_LIMIT) state.vardataCache.clear();
    state.vardataCache.set(cacheKey, body);
    return ok(body);
  },
};
