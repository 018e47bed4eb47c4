/**
 * Command line for the local server, for development against a fake Amplitude:
 *
 *   node node_modules/amplitude-experiment-native/dist/cjs/dev-server/cli.js \
 *     --flags flags.json [--port 8080] [--host 127.0.0.1] [--api-key KEY ...]
 *
 * Then point the SDK at it: serverUrl 'http://127.0.0.1:8080'.
 */
import { readFileSync } from 'node:fs';
import { createLocalServer } from './index';
import type { LocalServer } from './index';
import { errorMessage } from '../util/error-message';

export interface CliOptions {
  port: number;
  host: string;
  flagsFile?: string;
  apiKeys: string[];
}

const USAGE = 'usage: cli.js [--flags flags.json] [--port 8080] [--host 127.0.0.1] [--api-key KEY]...';

/** Parse arguments; throws with the usage text on anything unknown. */
export function parseCliArgs(argv: readonly string[]): CliOptions {
  const options: CliOptions = { port: 0, host: '127.0.0.1', apiKeys: [] };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i];
    const value = argv[i + 1];
    const need = (): string => {
      if (value === undefined || value.startsWith('--')) throw new Error(`${flag} needs a value\n${USAGE}`);
      i++;
      return value;
    };
    switch (flag) {
      case '--port': {
        const port = Number(need());
        if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`--port must be 0-65535\n${USAGE}`);
        options.port = port;
        break;
      }
      case '--host':
        options.host = need();
        break;
      case '--flags':
        options.flagsFile = need();
        break;
      case '--api-key':
        options.apiKeys.push(need());
        break;
      case '--help':
      case '-h':
        throw new Error(USAGE);
      default:
        throw new Error(`unknown argument ${flag}\n${USAGE}`);
    }
  }
  return options;
}

/** Start a server from command-line arguments. The flags file must hold a JSON array of flag configs. */
export async function runCli(argv: readonly string[]): Promise<LocalServer> {
  const options = parseCliArgs(argv);
  let flags: string | undefined;
  if (options.flagsFile !== undefined) {
    flags = readFileSync(options.flagsFile, 'utf8');
    const parsed: unknown = JSON.parse(flags);
    if (!Array.isArray(parsed)) throw new Error(`${options.flagsFile} must hold a JSON array of flag configs`);
  }
  return createLocalServer({ port: options.port, host: options.host, flags, apiKeys: options.apiKeys });
}

if (require.main === module) {
  runCli(process.argv.slice(2)).then(
    (server) => {
      console.log(`Amplitude-compatible local server listening on ${server.url}`);
      const stop = (): void => void server.close().then(() => process.exit(0));
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
    },
    (e: unknown) => {
      console.error(errorMessage(e));
      process.exit(2);
    },
  );
}
