/**
 * POST /2/httpapi (and /batch): Amplitude's HTTP API v2. Captures the events
 * for inspection and answers as Amplitude does.
 */
import { gunzipSync } from 'node:zlib';
import type { Route, RouteContext, RouteResponse } from '../types';
import { MAX_BODY_BYTES } from './util';

function reply(status: number, payload: Record<string, unknown>): RouteResponse {
  return { status, headers: { 'content-type': 'application/json' }, body: JSON.stringify(payload) };
}

function handle(ctx: RouteContext): RouteResponse {
  let raw = ctx.body;
  if (ctx.req.headers['content-encoding'] === 'gzip') {
    try {
      // The body limit holds for what it decompresses to as well: a small gzip can expand to gigabytes.
      raw = gunzipSync(raw, { maxOutputLength: MAX_BODY_BYTES });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') {
        return reply(413, { code: 413, error: `Request body too large: more than ${MAX_BODY_BYTES} bytes once decompressed` });
      }
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
  ctx.state.recordBatch({
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
