/**
 * How a client's requests are sent, from the `dispatcher` and `httpAgent`
 * options (both clients take both). This SDK sends requests with undici: a
 * Node http(s).Agent cannot be used as such, but its TLS options and
 * maxSockets carry over to the client's own undici Agent.
 */
import type { Agent as HttpAgent } from 'node:http';
import type { buildConnector, Dispatcher } from 'undici';

/** TLS options of a Node https.Agent that undici's `connect` understands (and Node's https takes as they are). */
export const TLS_KEYS = [
  'ca',
  'cert',
  'key',
  'pfx',
  'passphrase',
  'rejectUnauthorized',
  'ciphers',
  'servername',
  'minVersion',
  'maxVersion',
  'checkServerIdentity',
  'secureOptions',
  'ecdhCurve',
  'crl',
] as const;

export interface Transport {
  /** The caller's dispatcher, used as is (never closed by the client). */
  dispatcher: Dispatcher | undefined;
  /** Max connections per origin for the client's own Agent. */
  connections: number | undefined;
  /** TLS options for the client's own Agent. */
  connect: buildConnector.BuildOptions | undefined;
}

export function resolveTransport(
  dispatcher: Dispatcher | undefined,
  httpAgent: HttpAgent | null | undefined,
  connections: number | undefined,
  report: { notice(message: string): void; mistake(message: string): void },
): Transport {
  let connect: buildConnector.BuildOptions | undefined;
  if (httpAgent) {
    if (dispatcher) {
      report.mistake('config.httpAgent is ignored because config.dispatcher is set');
    } else {
      const agent = httpAgent as HttpAgent & { options?: Record<string, unknown> };
      const opts = agent.options ?? {};
      const tls: Record<string, unknown> = {};
      for (const k of TLS_KEYS) if (opts[k] !== undefined) tls[k] = opts[k];
      if (Object.keys(tls).length > 0) connect = tls;
      if (connections === undefined && Number.isFinite(agent.maxSockets) && agent.maxSockets > 0) {
        connections = agent.maxSockets;
      }
      if ('proxy' in agent) {
        // https-proxy-agent and friends: requests would silently bypass the proxy.
        report.mistake(
          'config.httpAgent looks like a proxy agent, which this SDK cannot use (it sends requests with undici): ' +
            "pass config.dispatcher = new ProxyAgent('http://proxy:port') from undici instead",
        );
      } else {
        report.notice(
          'config.httpAgent is not used (this SDK sends requests with undici); its TLS options and maxSockets ' +
            'are applied. Pass config.dispatcher (an undici Agent or ProxyAgent) for anything else.',
        );
      }
    }
  }
  return { dispatcher, connections, connect };
}
