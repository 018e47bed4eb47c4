/**
 * GET /sdk/v1/cohort/:id: Amplitude's cohort download for local evaluation.
 * Basic auth (base64 apiKey:secretKey, checked when the server was given
 * cohort keys); `maxCohortSize` (413 when the cohort is larger);
 * `lastModified` (204 when the cohort has not changed since); 404 for an
 * unknown cohort; 200 with {cohortId, groupType, groupTypeId, lastComputed,
 * lastModified, size, memberIds}. In evaluation-proxy mode the body is
 * gzipped (Content-Encoding: gzip) and 204 needs an equal lastModified.
 */
import type { Route, RouteResponse } from '../types';
import { jsonError } from './util';

export const cohortRoute: Route = {
  name: 'cohort',
  methods: ['GET'],
  path: '/sdk/v1/cohort/:id',
  handler(ctx): RouteResponse {
    const state = ctx.state;
    if (!state.checkCohortAuth(ctx.req.headers.authorization)) return jsonError(401, 'Invalid cohort credentials');
    const cohort = state.cohorts.get(ctx.params.id);
    if (!cohort) return jsonError(404, `cohort ${ctx.params.id} not found`);
    const max = ctx.url.searchParams.get('maxCohortSize');
    if (max !== null && Number(max) < cohort.size) {
      return jsonError(413, `cohort ${cohort.cohortId} has ${cohort.size} members, more than maxCohortSize ${max}`);
    }
    const lastModified = ctx.url.searchParams.get('lastModified');
    if (state.evaluationProxy) {
      // The proxy answers 204 for an equal lastModified only, and always sends its stored gzip.
      if (lastModified !== null && Number(lastModified) === cohort.lastModified) return { status: 204 };
      return {
        status: 200,
        headers: { 'content-type': 'application/json', 'content-encoding': 'gzip' },
        body: state.cohortGzipBody(cohort.cohortId),
      };
    }
    if (lastModified !== null && Number(lastModified) >= cohort.lastModified) return { status: 204 };
    return { status: 200, headers: { 'content-type': 'application/json' }, body: state.cohortBody(cohort.cohortId) };
  },
};
