/**
 * GET /sdk/v2/memberships/:groupType/:groupName: the evaluation-proxy's
 * per-user (groupType `User`) or per-group cohort lookup. Api-Key auth (401
 * for an unknown deployment key); 400 for an empty group type or name; 200
 * with a JSON array of the ids of the served cohorts of that group type the
 * name is in. Served only in evaluation-proxy mode (404 otherwise, as
 * Amplitude's own servers have no such endpoint).
 */
import type { Route, RouteResponse } from '../types';
import { jsonError, unauthorized } from './util';

export const membershipsRoute: Route = {
  name: 'memberships',
  methods: ['GET'],
  path: '/sdk/v2/memberships/:groupType/:groupName',
  handler(ctx): RouteResponse {
    const state = ctx.state;
    if (!state.evaluationProxy) return jsonError(404, 'not found (memberships are served in evaluation-proxy mode)');
    if (!state.checkApiKey(ctx.req.headers.authorization)) return unauthorized();
    const { groupType, groupName } = ctx.params;
    if (!groupType) return jsonError(400, 'Invalid group type');
    if (!groupName) return jsonError(400, 'Invalid group name');
    return {
      status: 200,
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(state.membershipsOf(groupType, groupName)),
    };
  },
};

/** GET /status: the evaluation-proxy's health check (evaluation-proxy mode only). */
export const statusRoute: Route = {
  name: 'status',
  methods: ['GET'],
  path: '/status',
  handler(ctx): RouteResponse {
    if (!ctx.state.evaluationProxy) return jsonError(404, 'not found');
    return { status: 200, headers: { 'content-type': 'text/plain' }, body: 'OK' };
  },
};
