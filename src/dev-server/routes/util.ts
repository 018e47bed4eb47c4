import type { RouteResponse } from '../types';

/** Largest request body accepted (analytics batches), bytes: as received, and again once decompressed. */
export const MAX_BODY_BYTES = 20 * 1024 * 1024;

export function jsonError(status: number, message: string, extra: Record<string, unknown> = {}): RouteResponse {
  return {
    status,
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ error: message, ...extra }),
  };
}

export function unauthorized(): RouteResponse {
  return jsonError(401, 'Invalid api key');
}

/** Decode a base64url (or base64) header holding JSON. Throws on bad input. */
export function decodeJsonHeader(value: string): unknown {
  return JSON.parse(Buffer.from(value, 'base64url').toString('utf8'));
}
