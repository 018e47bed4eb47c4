import type { RemoteEvaluationConfig } from './config/remote';
import type { LocalEvaluationConfig } from './config/local';
import type { RemoteEvaluationClient } from './remote/client';
import type { LocalEvaluationClient } from './local/client';
import { lazy } from './util/lazy';

// Each client's modules load with its first initialize call: a process that uses one kind of client never
// loads the other (with the lazy re-exports of the package's entry, see scripts/build-ts.js).
/* eslint-disable @typescript-eslint/no-require-imports -- literal requires, loaded lazily, visible to bundlers and file tracers */
const loadLocal = lazy(() => require('./local/factory') as typeof import('./local/factory'));
const loadRemote = lazy(() => require('./remote/factory') as typeof import('./remote/factory'));
/* eslint-enable @typescript-eslint/no-require-imports */

/** The factory, as in @amplitude/experiment-node-server. */
export const Experiment = {
  /** @deprecated use initializeRemote */
  initialize(apiKey: string, config?: RemoteEvaluationConfig): RemoteEvaluationClient {
    return loadRemote().initializeRemote(apiKey, config);
  },
  initializeRemote(apiKey: string, config?: RemoteEvaluationConfig): RemoteEvaluationClient {
    return loadRemote().initializeRemote(apiKey, config);
  },
  initializeLocal(apiKey: string, config?: LocalEvaluationConfig): LocalEvaluationClient {
    return loadLocal().initializeLocal(apiKey, config);
  },
};
