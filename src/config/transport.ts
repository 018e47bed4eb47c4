/**
 * How a client's requests are sent, from the `dispatcher`, `httpAgent` and
 * `proxyFromEnv` options (both clients take all three). A caller's undici
 * dispatcher is used as is. Otherwise a caller's http(s).Agent carries the
 * https requests over Node's https, as in the official SDK (so its TLS
 * options, or a proxy agent, work unchanged). One of them wins over the rest.
 */
import type { Agent as HttpAgent } from 'node:http';
import type { Dispatcher } from 'undici';

export interface Transport {
  /** The caller's dispatcher, used as is (never closed by the client). */
  dispatcher: Dispatcher | undefined;
  /** The caller's agent for https requests (never destroyed by the client). */
  httpAgent: HttpAgent | undefined;
  /** Route the client's own requests through HTTP_PROXY / HTTPS_PROXY / NO_PROXY. */
  proxyFromEnv: boolean;
}

/**
 * `proxyFromEnv` is as given, else Node's own switch for environment proxies (NODE_USE_ENV_PROXY=1, honoured by
 * Node 24's fetch and http), so one setting covers the process.
 */
export function resolveTransport(
  dispatcher: Dispatcher | undefined,
  httpAgent: HttpAgent | null | undefined,
  proxyFromEnv: unknown,
  mistake: (message: string) => void,
): Transport {
  let agent = httpAgent ?? undefined;
  if (agent !== undefined && dispatcher !== undefined) {
    mistake('config.httpAgent is ignored because config.dispatcher is set');
    agent = undefined;
  }
  let envProxy = typeof proxyFromEnv === 'boolean' ? proxyFromEnv : process.env.NODE_USE_ENV_PROXY === '1';
  if (envProxy && (dispatcher !== undefined || agent !== undefined)) {
    const winner = dispatcher !== undefined ? 'dispatcher' : 'httpAgent';
    if (proxyFromEnv === true) mistake(`config.proxyFromEnv is ignored because config.${winner} is set`);
    envProxy = false;
  }
  return { dispatcher, httpAgent: agent, proxyFromEnv: envProxy };
}
