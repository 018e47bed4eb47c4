/**
 * What the package resolves to in edge runtimes (the `edge-light`, `worker`
 * and `workerd` export conditions: Next.js middleware and edge routes, Vercel
 * Edge Functions, Cloudflare Workers). They cannot load a native addon or use
 * Node's sockets and files, so the SDK cannot run there. Importing still
 * works, so a module graph shared with Node code does not crash at import;
 * using the SDK throws one clear error saying what to do instead.
 * No imports: nothing here may pull Node built-ins into an edge bundle.
 */
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

export function diagnose(): never {
  return unsupported();
}
