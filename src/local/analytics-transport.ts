/**
 * An analytics-node transport over this SDK's HTTP client, used for tracked
 * events when `proxyFromEnv` is on: analytics-node's own transport (Node's
 * http/https modules) ignores HTTP_PROXY / HTTPS_PROXY. It behaves as
 * analytics-node's: the response body (or status) becomes its Response, a
 * timeout is a 408 (retried), a request that never reached the server is
 * null (dropped).
 */
import { dirname } from 'node:path';
import { HttpClient } from '../util/http';

/** analytics-node's Transport (the part it calls). */
export interface AnalyticsTransport {
  send(serverUrl: string, payload: unknown): Promise<unknown>;
}

interface BaseTransportClass {
  new (): { buildResponse(json: Record<string, unknown>): unknown };
}

const TIMEOUT_MILLIS = 10_000;

/** analytics-core (analytics-node's dependency) resolved from analytics-node, where npm, pnpm and yarn all put it. */
function baseTransport(): BaseTransportClass {
  const node = require.resolve('@amplitude/analytics-node');
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const core = require(require.resolve('@amplitude/analytics-core', { paths: [dirname(node)] })) as {
    BaseTransport: BaseTransportClass;
  };
  return core.BaseTransport;
}

export function createProxyTransport(): AnalyticsTransport {
  const Base = baseTransport();
  const http = new HttpClient({ proxyFromEnv: true, unrefSockets: true });
  class ProxiedTransport extends Base implements AnalyticsTransport {
    async send(serverUrl: string, payload: unknown): Promise<unknown> {
      let response;
      try {
        response = await http.request({
          url: serverUrl,
          method: 'POST',
          headers: { 'Content-Type': 'application/json', Accept: '*/*' },
          body: JSON.stringify(payload),
          timeoutMillis: TIMEOUT_MILLIS,
        });
      } catch (err) {
        return (err as { code?: string }).code === 'TIMEOUT' ? this.buildResponse({ code: 408 }) : null;
      }
      try {
        return this.buildResponse(JSON.parse(response.body.toString('utf8')) as Record<string, unknown>);
      } catch {
        return this.buildResponse({ code: response.status });
      }
    }
  }
  return new ProxiedTransport();
}
