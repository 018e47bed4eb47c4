import type { RemoteEvaluationConfig } from './config/remote';
import type { LocalEvaluationConfig } from './config/local';
import { initializeRemote } from './remote/factory';
import { initializeLocal } from './local/factory';
import type { RemoteEvaluationClient } from './remote/client';
import type { LocalEvaluationClient } from './local/client';

/** The factory, as in @amplitude/experiment-node-server. */
export const Experiment = {
  /** @deprecated use initializeRemote */
  initialize(apiKey: string, config?: RemoteEvaluationConfig): RemoteEvaluationClient {
    return initializeRemote(apiKey, config);
  },
  initializeRemote,
  initializeLocal(apiKey: string, config?: LocalEvaluationConfig): LocalEvaluationClient {
    return initializeLocal(apiKey, config);
  },
};
