/**
 * The one place that builds Amplitude's request headers: `Api-Key` for
 * deployment-key requests (flags, stream, remote evaluation) and `Basic` for
 * the cohort API (project API key and secret key), each with the library
 * name the server logs.
 */
import { LIBRARY } from '../version';

/** `Authorization` for a deployment key (server or client key). */
export function apiKeyAuthorization(deploymentKey: string): string {
  return `Api-Key ${deploymentKey}`;
}

/** `Authorization` for the cohort API: Basic base64(apiKey:secretKey). */
export function basicAuthorization(apiKey: string, secretKey: string): string {
  return 'Basic ' + Buffer.from(`${apiKey}:${secretKey}`, 'utf8').toString('base64');
}

/** Authorization plus `X-Amp-Exp-Library` (flags, stream and cohort requests send both). */
export function sdkHeaders(authorization: string, library: string = LIBRARY): Record<string, string> {
  return { Authorization: authorization, 'X-Amp-Exp-Library': library };
}
