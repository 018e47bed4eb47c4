/**
 * File order for vitest (sequence.sequencer in vitest.config.mts): the files
 * known to take longest start first, so none of them starts last and leaves
 * the other forks idle at the end of the run.
 *
 * Vitest orders by the durations of the previous run when its cache has them
 * (node_modules/.vite/vitest), and by file size when it does not, as on CI
 * after `npm ci`: there the long files that are short to read (child
 * processes, worker threads, Redis failovers) would start last. This list puts
 * them first either way; a stale entry costs only time. Under
 * `--sequence.shuffle` the files are shuffled with the run's seed instead.
 */
import { BaseSequencer, type TestSpecification } from 'vitest/node';

/** Longest first, roughly (an idle 2-core machine: 4 to 9 s each, when most files take under 1 s). */
const LONGEST = [
  'test/bad-inputs.test.ts', // 100 MB payloads
  'test/differential.test.ts', // generated configs against the official engine
  'test/fleet/fleet-source.test.ts', // Redis, Sentinel and Cluster failovers
  'test/platform/bundlers.test.ts', // esbuild, webpack, @vercel/nft
  'test/worker-threads.test.ts', // three stress processes
  'test/faults.test.ts',
  'test/fleet/redis-support.test.ts', // Cluster and Sentinel failovers
  'test/examples-features.test.ts', // ten example processes
  'test/fleet/multi-process.test.ts', // four processes, a writer killed
  'test/proxy/redis.test.ts', // a Redis Cluster
  'test/fleet/example.test.ts', // four processes, a writer killed
  'test/package/lazy-loading.test.ts', // child processes
  'test/package/types-resolution.test.ts', // TypeScript programs
];

/** mulberry32: the same shuffle for the same seed. */
function shuffled<T>(items: T[], seed: number): T[] {
  let state = seed >>> 0;
  const random = (): number => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [out[i], out[j]] = [out[j], out[i]];
  }
  return out;
}

export default class LongestFirstSequencer extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const { sequence } = this.ctx.config;
    if (sequence.shuffle) return shuffled(files, sequence.seed);
    const rank = (f: TestSpecification): number => {
      const i = LONGEST.findIndex((name) => f.moduleId.replaceAll('\\', '/').endsWith(`/${name}`));
      return i < 0 ? LONGEST.length : i;
    };
    // A stable sort: the files not listed keep vitest's own order (by duration or size).
    return (await super.sort(files)).sort((a, b) => rank(a) - rank(b));
  }
}
