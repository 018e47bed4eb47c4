/**
 * Local half of the Experiment factory: one client per
 * `${apiKey}-${instanceName}`, as the official SDK keys them. A second call
 * with the same key returns the existing client and ignores the new config;
 * a client closed by its owner is replaced (as the remote factory does).
 */
import type { LocalEvaluationConfig } from '../config/local';
import { LocalEvaluationClient } from './client';

const instances = new Map<string, LocalEvaluationClient>();

export function initializeLocal(apiKey: string, config?: LocalEvaluationConfig): LocalEvaluationClient {
  const key = `${apiKey}-${config?.instanceName}`;
  let client = instances.get(key);
  if (!client || client.isClosed) {
    client = new LocalEvaluationClient(apiKey, config);
    instances.set(key, client);
  }
  return client;
}
