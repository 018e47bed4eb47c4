/* eslint-disable @typescript-eslint/no-unsafe-enum-comparison -- the recorded event types are compared with the SDK's own enum values */
/** Provider events (READY, CONFIGURATION_CHANGED, STALE, ERROR), observed through the real OpenFeature server SDK. */
import { afterAll, describe, expect, it } from 'vitest';
import { type EventDetails, OpenFeature, ProviderEvents, ProviderStatus } from '@openfeature/server-sdk';
import { AmplitudeProvider } from '../../src/openfeature';
import { TestData } from '../../src/testing/test-data';
import {
  API_KEY,
  capturingLogger,
  eventually,
  FAST_POLLING,
  flag,
  guardUnhandledRejections,
  localClient,
  useLocalServer,
} from '../support';

guardUnhandledRejections();

let domainCount = 0;
/** A fresh OpenFeature domain whose client records every provider event it sees. */
function domain(): { name: string; seen: Array<{ type: string; details: EventDetails | undefined }>; types(): string[] } {
  const name = `events-${++domainCount}`;
  const seen: Array<{ type: string; details: EventDetails | undefined }> = [];
  const client = OpenFeature.getClient(name);
  for (const type of [ProviderEvents.Ready, ProviderEvents.Error, ProviderEvents.Stale, ProviderEvents.ConfigurationChanged]) {
    client.addHandler(type, (details) => void seen.push({ type, details }));
  }
  return { name, seen, types: () => seen.map((e) => e.type) };
}

const server = useLocalServer({ flags: [flag('a'), flag('b', 'off')], apiKeys: [API_KEY] });
afterAll(() => OpenFeature.close());

describe('AmplitudeProvider events', () => {
  it('READY once after initialize, then CONFIGURATION_CHANGED with flagsChanged for each update', async () => {
    const td = new TestData();
    td.update(td.flag('x').variations('on', 'off').fallthroughVariation('off'));
    const d = domain();
    await OpenFeature.setProviderAndWait(d.name, new AmplitudeProvider(localClient({ dataSource: td })));
    expect(d.types()).toEqual([ProviderEvents.Ready]);
    td.update(td.flag('x').variations('on', 'off').fallthroughVariation('on'), td.flag('y').variations('on'));
    await eventually(() => d.seen.length === 2, 5000, 'configuration change');
    expect(d.seen[1].type).toBe(ProviderEvents.ConfigurationChanged);
    expect([...(d.seen[1].details as { flagsChanged: string[] }).flagsChanged].sort()).toEqual(['x', 'y']);
    expect(await OpenFeature.getClient(d.name).getBooleanValue('x', false, { targetingKey: 'u' })).toBe(true);
    // The same flags again: no event.
    td.update(td.flag('y').variations('on'));
    await new Promise((r) => setImmediate(r));
    expect(d.seen).toHaveLength(2);
  });

  it('STALE when no refresh confirms the flags, READY again when one does', async () => {
    const d = domain();
    // Stale 200 ms after an install; the next poll, 500 ms after the last, confirms the flags again.
    const client = localClient(
      { serverUrl: server.url, flagConfigPollingIntervalMillis: 1000 },
      { staleAfterMillis: 200, flagPolling: { intervalMillis: 500 } },
    );
    await OpenFeature.setProviderAndWait(d.name, new AmplitudeProvider(client));
    await eventually(() => d.types().includes(ProviderEvents.Stale), 5000, 'STALE');
    expect(OpenFeature.getClient(d.name).providerStatus).toBe(ProviderStatus.STALE);
    expect(d.seen.find((e) => e.type === ProviderEvents.Stale)!.details!.message).toMatch(/flags from poll are stale/);
    // The next poll (same flags) confirms them.
    await eventually(() => d.types().filter((t) => t === ProviderEvents.Ready).length === 2, 5000, 'READY again');
    expect(d.types().slice(0, 3)).toEqual([ProviderEvents.Ready, ProviderEvents.Stale, ProviderEvents.Ready]);
    expect(OpenFeature.getClient(d.name).providerStatus).toBe(ProviderStatus.READY);
    // Stale flags still evaluate.
    expect(await OpenFeature.getClient(d.name).getStringValue('a', 'x', { targetingKey: 'u' })).toBe('on');
  });

  it('ERROR when start() fails, READY and CONFIGURATION_CHANGED once flags arrive in the background', async () => {
    server.injectFaults('flags', { status: 503, times: Infinity });
    const d = domain();
    const client = localClient(
      { serverUrl: server.url, startTimeoutMillis: 300, flagConfigPollingIntervalMillis: 1000, logger: capturingLogger() },
      // Background polls every 20 ms: the recovery is seen without waiting out the 1 s interval.
      FAST_POLLING,
    );
    await expect(OpenFeature.setProviderAndWait(d.name, new AmplitudeProvider(client))).rejects.toThrow();
    expect(d.types()).toEqual([ProviderEvents.Error]);
    expect(OpenFeature.getClient(d.name).providerStatus).toBe(ProviderStatus.ERROR);
    server.clearFaults('flags');
    await eventually(() => d.types().includes(ProviderEvents.Ready), 10_000, 'READY after recovery');
    expect(OpenFeature.getClient(d.name).providerStatus).toBe(ProviderStatus.READY);
    const changed = d.seen.find((e) => e.type === ProviderEvents.ConfigurationChanged);
    expect([...(changed!.details as { flagsChanged: string[] }).flagsChanged].sort()).toEqual(['a', 'b']);
    expect(await OpenFeature.getClient(d.name).getBooleanValue('a', false, { targetingKey: 'u' })).toBe(true);
  });

  it('FATAL when the deployment key is rejected', async () => {
    const d = domain();
    const client = localClient({ serverUrl: server.url, logger: capturingLogger() });
    // localClient uses API_KEY: accept only another key so the server answers 401.
    server.state.apiKeys.clear();
    server.state.apiKeys.add('another-key');
    await expect(OpenFeature.setProviderAndWait(d.name, new AmplitudeProvider(client))).rejects.toThrow(/401|rejected/);
    expect(OpenFeature.getClient(d.name).providerStatus).toBe(ProviderStatus.FATAL);
    expect(d.types()).toEqual([ProviderEvents.Error]);
  });

  it('stops listening to the client on close', async () => {
    const td = new TestData();
    td.update(td.flag('x').variations('on'));
    const d = domain();
    const provider = new AmplitudeProvider(localClient({ dataSource: td }));
    await OpenFeature.setProviderAndWait(d.name, provider);
    let emitted = 0;
    provider.events.addHandler(ProviderEvents.ConfigurationChanged, () => void emitted++);
    await provider.onClose();
    td.update(td.flag('x').variations('off'));
    await new Promise((r) => setImmediate(r));
    expect(emitted).toBe(0);
  });
});
