/**
 * The project's local Amplitude-compatible dev server, started for each test
 * (or once per file) on 127.0.0.1 and always closed, after the clients the
 * test made.
 */
import { afterAll, afterEach, beforeAll, beforeEach } from 'vitest';
import { createLocalServer, type LocalServer, type LocalServerOptions } from '../../src/dev-server';
import { closeClients } from './clients';

type Options = LocalServerOptions | (() => LocalServerOptions);

/**
 * Start a server before each test ('each', the default) or once for the file
 * ('all': faults are cleared after each test). Returns a stand-in that forwards
 * to the running server, so tests write `server.url` as with a variable.
 */
export function useLocalServer(options: Options = {}, scope: 'each' | 'all' = 'each'): LocalServer {
  let current: LocalServer | undefined;
  const start = async (): Promise<void> => {
    current = await createLocalServer(typeof options === 'function' ? options() : options);
  };
  const stop = async (): Promise<void> => {
    await closeClients();
    await current?.close();
    current = undefined;
  };
  if (scope === 'each') {
    beforeEach(start);
    afterEach(stop);
  } else {
    beforeAll(start);
    afterEach(async () => {
      await closeClients();
      current?.clearFaults();
    });
    afterAll(stop);
  }
  return forward(() => {
    if (!current) throw new Error('useLocalServer: the server runs only during tests and hooks');
    return current;
  });
}

function forward<T extends object>(target: () => T): T {
  return new Proxy({} as T, {
    get(_, prop) {
      const t = target();
      const value: unknown = Reflect.get(t, prop, t);
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(t) : value;
    },
    has: (_, prop) => prop in target(),
  });
}

/** A URL nothing listens on: a server started and closed again (connection refused). */
export async function deadUrl(): Promise<string> {
  const s = await createLocalServer();
  const url = s.url;
  await s.close();
  return url;
}
