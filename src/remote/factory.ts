/**
 * Remote half of the Experiment factory: one client per
 * `${apiKey}-${instanceName}` (instanceName undefined gives '-undefined', as
 * in the official SDK). A second call with the same key returns the existing
 * client and ignores the new config.
 */
import { RemoteEvaluationClient } from './client';
import type { RemoteEvaluationConfig } from '../config/remote';

const instances = new Map<string, RemoteEvaluationClient>();

export function initializeRemote(apiKey: string, config?: RemoteEvaluationConfig): RemoteEvaluationClient {
  const key = `${apiKey}-${config?.instanceName}`;
  let client = instances.get(key);
  // A client closed by its owner is replaced, not handed out again.
  if (!client || client.isClosed) {
    client = new RemoteEvaluationClient(apiKey, config);
    instances.set(key, client);
  }
  return client;
}

/** Drop every cached remote client (tests). Does not close them. */
export function resetRemoteInstances(): void {
  instances.clear();
}
