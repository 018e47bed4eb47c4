/**
 * POST /2/httpapi (and /batch): Amplitude's HTTP API v2. Captures the events
 * for inspection and answers as Amplitude does.
 */
import { gunzipSync } from 'node:zlib';
import type { Route, RouteContext, RouteResponse } from '../types';

function reply(status: number, payload: Record<string, unknown>): RouteResponse {
  return { status, headers: { 'content-type': 'application/json' }, body: JSON.stringify(payload) };
}

function handle(ctx: RouteContext): RouteResponse {
  let raw = ctx.body;
  if (ctx.req.headers['content-encoding'] === 'gzip') {
    try {
      raw = gunzipSync(raw);
    } catch {
      return reply(400, { code: 400, error: 'Invalid gzip request body' });
    }
  }
  let payload: unknown;
  try {
    payload = JSON.parse(raw.toString('utf8'));
  } catch {
    return reply(400, { code: 400, error: 'Invalid JSON request body' });
  }
  if (payload === null || typeof payload !== 'object' || Array.isArray(payload)) {
    return reply(400, { code: 400, error: 'Invalid JSON request body' });
  }
  const p = payload as { api_key?: unknown; events?: unknown; options?: unknown };
  if (typeof p.api_key !== 'string' || p.api_key === '') {
    return reply(400, { code: 400, error: 'Request missing required field', missing_field: 'api_key' });
  }
  if (!Array.isArray(p.events)) {
    return reply(400, { code: 400, error: 'Request missing required field', missing_field: 'events' });
  }
  const events = p.events.filter((e): e is Record<string, unknown> => e !== null && typeof e === 'object');
  ctx.state.batches.push({
    apiKey: p.api_key,
    events,
    options: p.options && typeof p.options === 'object' ? (p.options as Record<string, unknown>) : undefined,
    receivedAt: Date.now(),
  });
  return reply(200, {
    code: 200,
    server_upload_time: Date.now(),
    payload_size_bytes: ctx.body.length,
    events_ingested: events.length,
  });
}

export const httpApiRoute: Route = { name: 'httpapi', methods: ['POST'], path: '/2/httpapi', handler: handle };
export const batchApiRoute: Route = { name: 'batch', methods: ['POST'], path: '/batch', handler: handle };
