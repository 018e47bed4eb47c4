/**
 * What the package resolves to in edge runtimes (the `edge-light`, `worker`
 * and `workerd` export conditions: Next.js middleware and edge routes, Vercel
 * Edge Functions, Cloudflare Workers). They cannot load a native addon or use
 * Node's sockets and files, so the clients cannot run there. Every name of
 * the main entry is exported, so a module graph shared with Node code does
 * not crash at import: the ones that need neither Node nor the addon
 * (AmplitudeCookie, LogLevel, ServerZone, the error classes, the defaults,
 * TestData...) are the real thing; the others throw one clear
 * EdgeRuntimeError when constructed or called.
 * Only modules free of Node built-ins are imported here (a test walks the
 * graph): nothing may pull Node built-ins into an edge bundle.
 */
export { AmplitudeCookie } from './cookie';
export { LogLevel } from './util/logger';
export { ServerZone, EU_SERVER_URLS, US_SERVER_URLS, ConfigError } from './config/common';
export { FetchError } from './util/fetch-error';
export { FlagPayloadError } from './engine/types';
export { VERSION } from './version';
export { TestData, FlagBuilder, OFF_VARIANT } from './testing/test-data';
export { InMemoryFlagConfigCache } from './local/compat/cache';
export {
  LocalEvaluationDefaults,
  CohortSyncConfigDefaults,
  EvaluationProxyConfigDefaults,
  ExposureConfigDefaults,
  AssignmentConfigDefaults,
} from './config/local';
export { RemoteEvaluationDefaults, Defaults } from './config/remote';

export const EDGE_RUNTIME_MESSAGE =
  'amplitude-experiment-native runs only in the Node.js runtime (it loads a native addon), not in an edge runtime. ' +
  "In Next.js, evaluate flags in a route handler, server component or API route with `export const runtime = 'nodejs'` " +
  "(the default) and `serverExternalPackages: ['amplitude-experiment-native']` in next.config.js; middleware can call " +
  'such a route, or use remote evaluation over fetch().';

export class EdgeRuntimeError extends Error {
  override readonly name = 'EdgeRuntimeError';
  readonly code = 'AMPLITUDE_EXPERIMENT_EDGE_RUNTIME';
  constructor() {
    super(EDGE_RUNTIME_MESSAGE);
  }
}

function unsupported(): never {
  throw new EdgeRuntimeError();
}

export const Experiment = {
  initializeLocal: unsupported,
  initializeRemote: unsupported,
  initialize: unsupported,
};

export class LocalEvaluationClient {
  constructor() {
    unsupported();
  }
}

export class RemoteEvaluationClient {
  constructor() {
    unsupported();
  }
}

export { RemoteEvaluationClient as ExperimentClient };

/** The official SDK's flag fetcher and poller: they make HTTP requests. */
export class FlagConfigFetcher {
  constructor() {
    unsupported();
  }
}

export class FlagConfigPoller {
  constructor() {
    unsupported();
  }
}

/** Both describe the native addon, which edge runtimes cannot load. */
export function diagnose(): never {
  return unsupported();
}

export function formatDiagnosis(): never {
  return unsupported();
}
