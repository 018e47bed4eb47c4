/**
 * Open SSE connections of the local server's /sdk/stream/v1/flags route.
 * Each connection gets the current flags on open (unless turned off), every
 * later setFlags() as a new message, and a keep-alive (`data:  `, a single
 * space) every keepAliveMillis. Tests push raw SSE text, stop keep-alives
 * or end connections to exercise the client's fault paths.
 */
import type { ServerResponse } from 'node:http';

export interface StreamHubOptions {
  /** Interval of keep-alive messages; 0 turns them off (a silent stream). Default 15000, as Amplitude. */
  keepAliveMillis: number;
  /** Send the current flags as the first message. Default true. */
  sendInitialFlags: boolean;
}

interface Connection {
  res: ServerResponse;
  timer: NodeJS.Timeout | undefined;
}

/** Encode a payload as one SSE message (multi-line text becomes several data lines). */
export function sseMessage(data: string): string {
  return (
    data
      .split(/\r\n|\r|\n/)
      .map((line) => `data: ${line}`)
      .join('\n') + '\n\n'
  );
}

export class StreamHub {
  readonly options: StreamHubOptions = { keepAliveMillis: 15_000, sendInitialFlags: true };
  private readonly connections = new Set<Connection>();
  /** Connections opened since the server started. */
  opened = 0;

  get size(): number {
    return this.connections.size;
  }

  /** Take over a response: headers, initial flags, keep-alives. */
  open(res: ServerResponse, flagsJson: string): void {
    res.writeHead(200, {
      'content-type': 'text/event-stream',
      'cache-control': 'no-cache',
      connection: 'keep-alive',
    });
    res.flushHeaders();
    const conn: Connection = { res, timer: undefined };
    this.connections.add(conn);
    this.opened++;
    res.once('close', () => {
      if (conn.timer) clearInterval(conn.timer);
      this.connections.delete(conn);
    });
    if (this.options.sendInitialFlags) res.write(sseMessage(flagsJson));
    this.armKeepAlive(conn);
  }

  private armKeepAlive(conn: Connection): void {
    if (conn.timer) clearInterval(conn.timer);
    conn.timer = undefined;
    const every = this.options.keepAliveMillis;
    if (every > 0) {
      conn.timer = setInterval(() => {
        if (!conn.res.destroyed) conn.res.write('data:  \n\n');
      }, every);
      conn.timer.unref();
    }
  }

  /** Apply changed keep-alive options to the open connections. */
  refreshKeepAlives(): void {
    for (const conn of this.connections) this.armKeepAlive(conn);
  }

  /** Send the flags to every open connection. */
  broadcast(flagsJson: string): void {
    this.pushRaw(sseMessage(flagsJson));
  }

  /** Write raw text (SSE syntax or garbage) to every open connection. */
  pushRaw(text: string): void {
    for (const conn of this.connections) if (!conn.res.destroyed) conn.res.write(text);
  }

  /** End every open connection (cleanly, or by destroying the sockets). */
  closeAll(mode: 'end' | 'destroy' = 'end'): void {
    for (const conn of Array.from(this.connections)) {
      if (conn.timer) clearInterval(conn.timer);
      if (mode === 'end') conn.res.end();
      else conn.res.destroy();
      this.connections.delete(conn);
    }
  }
}
