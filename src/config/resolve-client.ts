/**
 * The start every client's config resolution shares: check the config is an
 * object, make its logger and mistake reporter, and resolve the option table
 * for that client (URLs defaulted from the resolved serverZone).
 */
import { createConfigReporter, createLogger, type Logger } from '../util/logger';
import { ConfigError, normalizeServerZone, serverUrlsFor } from './common';
import { resolveTable } from './option-table';
import { OPTIONS } from './options';

export interface ClientOptions {
  /** The table's resolved values, by option name. */
  resolved: Record<string, unknown>;
  logger: Logger;
  /** Reports a user's config mistake (a warning at every level but Disable). */
  mistake: (message: string) => void;
}

export function resolveClientOptions(config: unknown, client: 'local' | 'remote'): ClientOptions {
  const c = (config ?? {}) as Record<string, unknown>;
  if (typeof c !== 'object' || Array.isArray(c)) throw new ConfigError('config must be an object');
  const logger = createLogger(c);
  const mistake = createConfigReporter(c);
  const resolved = resolveTable(OPTIONS, c, {
    client,
    warn: mistake,
    notice: (m) => logger.warn(m),
    urls: (r) => serverUrlsFor(normalizeServerZone(r.serverZone)),
  });
  return { resolved, logger, mistake };
}
