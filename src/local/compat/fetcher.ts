/**
 * The official SDK's FlagConfigFetcher: one `GET {serverUrl}/sdk/v2/flags`,
 * resolved as a record of flag configs keyed by flag key.
 */
import { LocalEvaluationDefaults } from '../../config/local';
import type { FlagConfig } from '../../types';
import { HttpClient } from '../../util/http';
import { createLogger, type Logger, LogLevel, type LoggerProvider } from '../../util/logger';
import { apiKeyAuthorization, sdkHeaders } from '../../util/auth';

/** The official SDK's HttpClient shape (what its tests and custom transports implement). */
export interface SimpleHttpClient {
  request(
    requestUrl: string,
    method: string,
    headers: Record<string, string>,
    body: string,
    timeoutMillis?: number,
  ): Promise<{ status: number; body: string }>;
}

/** The official SDK's per-request deadline for flag configs. */
const FLAG_CONFIG_TIMEOUT_MILLIS = 5000;

/** One HttpClient for every fetcher without a caller's client; its sockets never keep a process alive. */
let sharedHttp: HttpClient | undefined;

export class FlagConfigFetcher {
  private readonly logger: Logger;
  private receiver: ((flags: string) => void) | undefined;

  /** Without `httpClient`, requests go through this package's own HTTP client (undici). */
  constructor(
    private readonly apiKey: string,
    private readonly httpClient?: SimpleHttpClient | null,
    private readonly serverUrl: string = LocalEvaluationDefaults.serverUrl,
    logLevel: LogLevel = LogLevel.Error,
    loggerProvider?: LoggerProvider,
  ) {
    this.logger = createLogger({ logLevel, loggerProvider });
  }

  /** Fetch the flag configs; rejects on a status other than 200 or a body that is not a JSON array. */
  async fetch(): Promise<Record<string, FlagConfig>> {
    const url = `${this.serverUrl}/sdk/v2/flags`;
    const headers = sdkHeaders(apiKeyAuthorization(this.apiKey));
    let status: number;
    let body: string;
    if (this.httpClient) {
      ({ status, body } = await this.httpClient.request(url, 'GET', headers, '', FLAG_CONFIG_TIMEOUT_MILLIS));
    } else {
      sharedHttp ??= new HttpClient({ unrefSockets: true, nodeHttp: true });
      const response = await sharedHttp.request({ url, method: 'GET', headers, timeoutMillis: FLAG_CONFIG_TIMEOUT_MILLIS });
      status = response.status;
      body = response.body.toString('utf8');
    }
    if (status !== 200) throw new Error(`Flags error response: status=${status}`);
    const flags: unknown = JSON.parse(body);
    if (!Array.isArray(flags)) throw new Error('Flags error response: the body is not a JSON array of flag configs');
    this.receiver?.(body);
    const record: Record<string, FlagConfig> = {};
    for (const flag of flags as Array<{ key?: unknown }>) {
      if (flag && typeof flag.key === 'string') record[flag.key] = flag;
      else this.logger.error('flag config without a string key left out');
    }
    return record;
  }

  /** Receive each fetched payload as its raw JSON text. */
  setRawReceiver(rawReceiver: (flags: string) => void): void {
    this.receiver = rawReceiver;
  }
}
