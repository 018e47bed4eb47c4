import { describe, expect, it } from 'vitest';
import { canonicalize, hashCode, toAssignmentEvent, toExposureEvents, TrackingFilter } from '../../src/local/exposure';
import type { ExperimentUser, Variants } from '../../src/types';
import {
  API_KEY,
  capturingLogger,
  eventually,
  flag,
  guardUnhandledRejections,
  localClient,
  sleep,
  useLocalServer,
} from '../support';

// The official SDK's own modules (no analytics-node in these).
/* eslint-disable @typescript-eslint/no-require-imports */
const officialExposure = require('@amplitude/experiment-node-server/dist/src/exposure/exposure-service') as {
  toExposureEvents(exposure: unknown, ttl: number): unknown[];
};
const { Exposure } = require('@amplitude/experiment-node-server/dist/src/exposure/exposure') as {
  Exposure: new (user: unknown, results: unknown) => { timestamp: number; canonicalize(): string };
};
const officialAssignment = require('@amplitude/experiment-node-server/dist/src/assignment/assignment-service') as {
  toEvent(assignment: unknown): unknown;
};
const { Assignment } = require('@amplitude/experiment-node-server/dist/src/assignment/assignment') as {
  Assignment: new (user: unknown, results: unknown) => { timestamp: number };
};
const { hashCode: officialHash } = require('@amplitude/experiment-node-server/dist/src/util/hash') as {
  hashCode(s: string): number;
};
/* eslint-enable @typescript-eslint/no-require-imports */

guardUnhandledRejections();

const DAY = 24 * 60 * 60 * 1000;

const results: Variants = {
  'flag-b': { key: 'treatment', value: 'treatment', metadata: { flagVersion: 3, segmentName: 'Seg', experimentKey: 'exp-9' } },
  'flag-a': {
    key: 'on',
    value: 'on',
    payload: { x: 1 },
    metadata: { flagType: 'release', flagVersion: 1, segmentName: 'All Other Users' },
  },
  'flag-off': { key: 'off', metadata: { default: true, flagVersion: 2, segmentName: 'All Other Users' } },
  'flag-mx': { key: 'slot-1', metadata: { flagType: 'mutual-exclusion-group', flagVersion: 1, segmentName: 's' } },
  'flag-notrack': { key: 'on', metadata: { trackExposure: false } },
  'flag-valueonly': { value: 'v' },
};

const users: ExperimentUser[] = [
  { user_id: 'u1', device_id: 'd1' },
  { user_id: '  padded ', groups: { org: ['acme'] } },
  { device_id: 'only-device' },
  { user_id: 42 as unknown as string, device_id: null as unknown as string },
];

describe('event shapes match the official SDK', () => {
  it('hashCode and canonicalize', () => {
    for (const s of ['', 'a', 'u1 d1 flag-a on ', '😀 unicode ñ', 'x'.repeat(1000)]) expect(hashCode(s)).toBe(officialHash(s));
    for (const u of users) expect(canonicalize(u, results)).toBe(new Exposure(u, results).canonicalize());
  });

  it('exposure events (one per tracked, non-default flag)', () => {
    for (const u of users) {
      const official = new Exposure(u, results);
      official.timestamp = 1_700_000_000_000;
      expect(toExposureEvents(u, results, official.timestamp, DAY)).toEqual(officialExposure.toExposureEvents(official, DAY));
    }
    const events = toExposureEvents(users[0], results, 1_700_000_000_000);
    expect(events.map((e) => e.event_properties['[Experiment] Flag Key'])).toEqual([
      'flag-b',
      'flag-a',
      'flag-mx',
      'flag-valueonly',
    ]);
  });

  it('assignment events (one per evaluation)', () => {
    for (const u of users) {
      const official = new Assignment(u, results);
      official.timestamp = 1_700_000_000_000;
      expect(toAssignmentEvent(u, results, official.timestamp)).toEqual(officialAssignment.toEvent(official));
    }
  });

  it('sendEvaluatedProps copies the user fields and user_properties (Python SDK option)', () => {
    const user: ExperimentUser = { user_id: 'u', country: 'NZ', os: 'linux', user_properties: { plan: 'pro' } };
    const event = toAssignmentEvent(user, results, 0, true);
    expect(event.country).toBe('NZ');
    expect(event.os).toBe('linux');
    expect(event.user_properties).toMatchObject({ plan: 'pro', $set: { '[Experiment] flag-a': 'on' } });
    expect(user.user_properties).toEqual({ plan: 'pro' });
  });
});

describe('TrackingFilter', () => {
  it('tracks a canonical string once per TTL, evicts least recently used', async () => {
    const filter = new TrackingFilter(2, 150);
    expect(filter.shouldTrack('a')).toBe(true);
    expect(filter.shouldTrack('a')).toBe(false);
    expect(filter.shouldTrack('b')).toBe(true);
    expect(filter.shouldTrack('a')).toBe(false); // refreshes recency of 'a'
    expect(filter.shouldTrack('c')).toBe(true); // evicts 'b'
    expect(filter.shouldTrack('b')).toBe(true);
    await sleep(250);
    expect(filter.shouldTrack('b')).toBe(true); // expired
  });

  it('a hit does not extend the TTL (age counts from insertion)', async () => {
    const filter = new TrackingFilter(10, 200);
    expect(filter.shouldTrack('k')).toBe(true);
    await sleep(120);
    expect(filter.shouldTrack('k')).toBe(false);
    await sleep(120);
    expect(filter.shouldTrack('k')).toBe(true);
  });
});

describe('tracking through analytics-node', () => {
  const server = useLocalServer({
    flags: [flag('a'), flag('b'), { ...flag('c', 'off') }],
    apiKeys: [API_KEY],
  });

  const trackingOptions = () => ({ serverUrl: server.url + '/2/httpapi', flushIntervalMillis: 60_000, flushQueueSize: 1000 });

  it('does not load @amplitude/analytics-node unless tracking is configured', async () => {
    const isAnalytics = (p: string) => p.includes('@amplitude/analytics-node');
    const loaded = () => Object.keys(require.cache).some(isAnalytics);
    // Another test of this file may have loaded it already (tests run in any order): forget it, so a new require shows.
    for (const p of Object.keys(require.cache).filter(isAnalytics)) delete require.cache[p];
    expect(loaded()).toBe(false);
    const c = localClient({ serverUrl: server.url, logger: capturingLogger() });
    await c.start();
    c.evaluateV2({ user_id: 'u' }, undefined, { tracksExposure: true });
    expect(loaded()).toBe(false);
    localClient({ serverUrl: server.url, exposureConfig: { apiKey: 'analytics-key', ...trackingOptions() } });
    expect(loaded()).toBe(true);
  });

  it('sends exposure events on close(), deduplicated, only with tracksExposure', async () => {
    const c = localClient({ serverUrl: server.url, exposureConfig: { apiKey: 'analytics-key', ...trackingOptions() } });
    await c.start();
    c.evaluateV2({ user_id: 'u1', device_id: 'd1' });
    c.evaluateV2({ user_id: 'u1', device_id: 'd1' }, undefined, { tracksExposure: true });
    c.evaluateV2({ user_id: 'u1', device_id: 'd1' }, undefined, { tracksExposure: true });
    c.evaluateV2({ user_id: 'u2' }, ['a'], { tracksExposure: true });
    expect(server.events()).toHaveLength(0);
    await c.close({ flushTimeoutMillis: 5000 });
    const events = server.events();
    expect(
      events
        .map((e) => `${String(e.user_id)} ${String((e.event_properties as Record<string, unknown>)['[Experiment] Flag Key'])}`)
        .sort(),
    ).toEqual(['u1 a', 'u1 b', 'u2 a']);
    expect(server.eventBatches()[0].apiKey).toBe('analytics-key');
    for (const e of events) {
      expect(e.event_type).toBe('[Experiment] Exposure');
      expect(e.insert_id).toMatch(/^u[12] (d1|undefined) -?\d+ \d+$/);
    }
  });

  it('sends assignment events for every evaluation (deduplicated)', async () => {
    const c = localClient({ serverUrl: server.url, assignmentConfig: { apiKey: 'analytics-key', ...trackingOptions() } });
    await c.start();
    c.evaluateV2({ user_id: 'u1' });
    c.evaluateV2({ user_id: 'u1' });
    c.evaluateV2({ user_id: 'u2' });
    await c.close();
    const events = server.events();
    expect(events.map((e) => e.user_id)).toEqual(['u1', 'u2']);
    expect(events[0].event_type).toBe('[Experiment] Assignment');
    expect(events[0].event_properties).toEqual({
      'a.variant': 'on',
      'b.variant': 'on',
      'c.variant': 'off',
      'a.details': 'v1 rule:All Other Users',
      'b.details': 'v1 rule:All Other Users',
      'c.details': 'v1 rule:All Other Users',
    });
    expect(events[0].user_properties).toEqual({
      $set: { '[Experiment] a': 'on', '[Experiment] b': 'on' },
      $unset: { '[Experiment] c': '-' },
    });
  });

  it('a user getter that throws null while events are built: logged, evaluateV2 still answers', async () => {
    const logger = capturingLogger();
    const c = localClient({ serverUrl: server.url, logger, assignmentConfig: { apiKey: 'k', ...trackingOptions() } });
    await c.start();
    // Answers the first read (the engine's, when it reads it), then throws null: not an Error, reading its .message throws.
    let reads = 0;
    const user = {
      get user_id(): string {
        if (reads++ > 0) throw null; // eslint-disable-line @typescript-eslint/only-throw-error -- user code throws anything
        return 'u1';
      },
    };
    expect(c.evaluateV2(user).a.key).toBe('on');
    expect(logger.count('error', 'tracking failed: null')).toBe(1);
  });

  it('close() returns within its flush timeout when the analytics endpoint hangs', async () => {
    server.injectFaults('httpapi', { hang: true, times: Infinity });
    const logger = capturingLogger();
    const c = localClient({ serverUrl: server.url, logger, exposureConfig: { apiKey: 'k', ...trackingOptions() } });
    await c.start();
    c.evaluateV2({ user_id: 'u1' }, undefined, { tracksExposure: true });
    await c.close({ flushTimeoutMillis: 300 });
    await eventually(() => server.requests('httpapi').length > 0, 5000, 'an upload attempt');
    expect(logger.count('warn', 'not confirmed sent within 300 ms')).toBe(1);
  });
});
