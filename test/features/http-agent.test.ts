/**
 * `httpAgent` (an official option of both clients) carries the SDK's https requests, as in the official SDK: a
 * caller's agent decides where the bytes go (a corporate proxy agent, a custom CA, a socket policy). The agent here
 * stands in for a proxy agent: its createConnection opens a plain TCP connection to the local dev server, whatever
 * host the URL names, so a request arrives only if it went through the agent. The server URLs name a port where
 * nothing listens, so a request that bypassed the agent would be refused.
 */
import { Agent as HttpsAgent } from 'node:https';
import net from 'node:net';
import type { Duplex } from 'node:stream';
import { describe, expect, it, vi } from 'vitest';
import { RemoteEvaluationClient } from '../../src/remote/client';
import { createLocalServer } from '../../src/dev-server';
import {
  API_KEY,
  capturingLogger,
  deadUrl,
  flag,
  guardUnhandledRejections,
  localClient,
  track,
  useLocalServer,
} from '../support';

guardUnhandledRejections();

/** An https.Agent that sends every connection to `port` on 127.0.0.1, in plain text; records its sockets' local ports. */
class DivertingAgent extends HttpsAgent {
  readonly localPorts = new Set<number>();
  constructor(private readonly port: () => number) {
    super({ keepAlive: true });
  }
  override createConnection(_options: unknown, callback?: (err: Error | null, socket: Duplex) => void): Duplex {
    const socket = net.connect(this.port(), '127.0.0.1');
    socket.on('connect', () => this.localPorts.add(socket.localPort!));
    if (callback) socket.once('connect', () => callback(null, socket));
    return socket;
  }
}

const server = useLocalServer({ flags: [flag('via-agent', 'on')] });

/** An https URL nobody answers at (the port of a server that was started and closed). */
async function unreachableHttps(): Promise<string> {
  return (await deadUrl()).replace('http://', 'https://');
}

function portOf(url: string): number {
  return Number(new URL(url).port);
}

describe('httpAgent carries the https requests', () => {
  it.each([
    ['flag polling', false, 'flags'],
    ['the flag stream', true, 'stream'],
  ] as const)('local client: %s; close() leaves the agent to its owner', async (_what, streamUpdates, route) => {
    const agent = new DivertingAgent(() => portOf(server.url));
    const destroy = vi.spyOn(agent, 'destroy');
    const unreachable = await unreachableHttps();
    const logger = capturingLogger();
    const client = localClient({ serverUrl: unreachable, streamUpdates, streamServerUrl: unreachable, httpAgent: agent, logger });
    await client.start();
    expect(client.evaluateV2({ user_id: 'u' }, ['via-agent'])['via-agent']?.key).toBe('on');
    const requests = server.requests(route);
    expect(requests.length).toBeGreaterThanOrEqual(1);
    for (const r of requests) expect(agent.localPorts.has(r.remotePort!)).toBe(true);
    await client.close();
    expect(destroy).not.toHaveBeenCalled();
    expect(logger.lines.filter((e) => e.level === 'warn' || e.level === 'error')).toEqual([]);
    agent.destroy();
  });

  it('remote client: fetchV2', async () => {
    const agent = new DivertingAgent(() => portOf(server.url));
    const client = track(new RemoteEvaluationClient(API_KEY, { serverUrl: await unreachableHttps(), httpAgent: agent }));
    const variants = await client.fetchV2({ user_id: 'u' });
    expect(variants['via-agent']?.key).toBe('on');
    const [request] = server.requests('vardata');
    expect(agent.localPorts.has(request.remotePort!)).toBe(true);
    await client.close();
    agent.destroy();
  });

  it('http URLs do not use it, as in the official SDK (which gives the agent to https requests only)', async () => {
    const other = await createLocalServer({ flags: [flag('direct', 'on')] });
    const agent = new DivertingAgent(() => portOf(server.url));
    const client = localClient({ serverUrl: other.url, httpAgent: agent });
    await client.start();
    expect(client.flagKeys()).toEqual(['direct']);
    expect(agent.localPorts.size).toBe(0);
    await client.close();
    await other.close();
    agent.destroy();
  });
});
