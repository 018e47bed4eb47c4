/**
 * Sockets that do not keep the process alive: the local client's polling,
 * stream and cohort connections are background work, so a process whose
 * only remaining handles are these exits by itself. While start() is
 * pending, its (ref'd) deadline timer keeps the process alive instead, so
 * `await client.start()` in a script is never cut short.
 */
import type { buildConnector } from 'undici';
import { undici } from './undici';

export function unrefConnector(): buildConnector.connector {
  let connect: buildConnector.connector | undefined;
  return (opts, callback) => {
    connect ??= undici().buildConnector({});
    connect(opts, (...args: buildConnector.CallbackArgs) => {
      if (args[0] === null) args[1].unref();
      callback(...args);
    });
  };
}
