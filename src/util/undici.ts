/**
 * The parts of undici the SDK's own HTTP client uses, loaded on first use.
 *
 * undici's index loads all of undici (fetch, WebSocket, caches, mocks...):
 * ~110 modules, ~20 MB of RSS and ~5 MB of V8 heap in Node 20, more than the
 * whole official SDK grows by. The agent, its connector and the request API
 * are about a third of that. These files are not undici's public entry
 * point, so if a future undici moves them, the whole index is used instead
 * (same behaviour, more memory).
 */
import type * as Undici from 'undici';
import { lazy } from './lazy';

export interface UndiciParts {
  Agent: typeof Undici.Agent;
  buildConnector: typeof Undici.buildConnector;
  /** undici's Dispatcher#request, for any dispatcher (ours or one the user passed in). */
  request(dispatcher: Undici.Dispatcher, options: Undici.Dispatcher.RequestOptions): Promise<Undici.Dispatcher.ResponseData>;
}

type RequestApi = (this: Undici.Dispatcher, options: Undici.Dispatcher.RequestOptions) => Promise<Undici.Dispatcher.ResponseData>;

/* eslint-disable @typescript-eslint/no-require-imports -- literal requires, loaded lazily, visible to file tracers */
export const undici = lazy((): UndiciParts => {
  let Agent: typeof Undici.Agent;
  let buildConnector: typeof Undici.buildConnector;
  let request: RequestApi;
  try {
    Agent = require('undici/lib/dispatcher/agent.js') as typeof Undici.Agent;
    buildConnector = require('undici/lib/core/connect.js') as typeof Undici.buildConnector;
    request = require('undici/lib/api/api-request.js') as RequestApi;
    if (typeof Agent !== 'function' || typeof buildConnector !== 'function' || typeof request !== 'function') {
      throw new Error('unexpected undici layout');
    }
  } catch {
    const all = require('undici') as typeof Undici;
    Agent = all.Agent;
    buildConnector = all.buildConnector;
    request = function (this: Undici.Dispatcher, options) {
      return this.request(options);
    };
  }
  return { Agent, buildConnector, request: (dispatcher, options) => request.call(dispatcher, options) };
});
/* eslint-enable @typescript-eslint/no-require-imports */
