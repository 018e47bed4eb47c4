// Runs every feature example under examples/ as a user would (node examples/<name>.js, the package resolved by
// self-reference from dist/: `npm test` builds it first) and checks what each prints. All offline.
import { execFile } from 'node:child_process';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { describe, it } from 'vitest';

const root = path.resolve(__dirname, '..');
const run = promisify(execFile);

async function example(name: string): Promise<string> {
  const { stdout } = await run(process.execPath, [path.join(root, 'examples', `${name}.js`)], { cwd: root, timeout: 60_000 });
  return stdout;
}

// Each example is its own process with its own temp folder and ports, and most of its time is spent waiting
// (on timers, reloads, the local server): run side by side, they take about as long as the slowest one.
describe.concurrent('feature examples', () => {
  it('hooks.js counts every evaluation despite a throwing hook', async ({ expect }) => {
    const out = await example('hooks');
    expect(out).toContain('evaluateV2 new-checkout=on: 100');
    const a = Number(/evaluateV2 banner=a: (\d+)/.exec(out)?.[1]);
    const b = Number(/evaluateV2 banner=b: (\d+)/.exec(out)?.[1]);
    expect(a + b).toBe(100);
    expect(out).toContain('evaluateV2Details new-checkout=on: 1');
  });

  it('test-data.js passes its assertions', async ({ expect }) => {
    expect(await example('test-data')).toContain('all assertions passed');
  });

  it('file-source.js reloads the file and survives a bad one', async ({ expect }) => {
    const out = await example('file-source');
    expect(out).toContain('first: spring sale');
    expect(out).toContain('after the change: summer sale');
    expect(out).toContain('after a bad file: summer sale');
  });

  it('persistence.js starts from the last-known-good file with the server down', async ({ expect }) => {
    const out = await example('persistence');
    expect(out).toContain('persisted 5 flags');
    expect(out).toContain('server down, pricing-page from the last-known-good file: treatment');
    expect(out).toContain('warning logged: true');
  });

  it('evaluation-details.js explains every flag, with evaluateV2 variants', async ({ expect }) => {
    const out = await example('evaluation-details');
    expect(out).toMatch(/^pricing-page: treatment \(SPLIT in segment 1 "All Other Users"; hash 2213012758/m);
    expect(out).toMatch(/^search-ranking: semantic \(TARGETING_MATCH in segment 1 "Mobile, app 2.0\+"/m);
    expect(out).toContain('same variants as evaluateV2: true');
  });

  it('metrics.js counts the failed and the good flag fetch, the install and every evaluation', async ({ expect }) => {
    const out = await example('metrics');
    expect(out).toContain('installed 5 flags from poll (timed)');
    expect(out).toContain('experiment_evaluations_total 10');
    expect(out).toContain('experiment_flag_fetch_failures_total{status="503"} 1');
    expect(out).toContain('experiment_flag_fetches_total 1');
  });

  it('opentelemetry.js records span events and metrics through the OTel SDK', async ({ expect }) => {
    const out = await example('opentelemetry');
    expect(out).toContain('POST /checkout: feature_flag.evaluation new-checkout=on for ada (version 4)');
    expect(out).toContain('POST /checkout: feature_flag.evaluation new-checkout=off for bob (version 4)');
    expect(out).toContain('amplitude.experiment.evaluations: 2');
    expect(out).toContain('amplitude.experiment.snapshot.installs: 1');
  });

  it('openfeature.js resolves through the OpenFeature SDK', async ({ expect }) => {
    const out = await example('openfeature');
    expect(out).toContain('new-checkout for ada: true (variant on, reason TARGETING_MATCH, segment "Individual Inclusions")');
    expect(out).toMatch(/button-color for ada: (blue|green) \(reason SPLIT\)/);
    expect(out).toContain('limits: {"maxItems":10}');
    expect(out).toContain('no-such-flag: true (error FLAG_NOT_FOUND)');
  });

  it('events.js reports one update per change and answers the readiness probe from status()', async ({ expect }) => {
    const out = await example('events');
    expect(out).toContain('readiness before start: 503');
    expect(out).toContain('status: ready (source stream, 5 flags, stale false)');
    expect(out).toContain('readiness after start: 200');
    expect(out.match(/^update from stream: added \[\] removed \[\] changed \[pricing-page\]$/gm)).toHaveLength(1);
    expect(out).toContain('update:pricing-page changed');
    expect(out).toContain('readiness after close: 503');
  });

  it('cli.js pulls and evaluates with the command line', async ({ expect }) => {
    const out = await example('cli');
    expect(out).toMatch(/saved 5 flag configs/);
    expect(out).toContain('pricing-page: treatment  [TARGETING_MATCH]');
  });
});
