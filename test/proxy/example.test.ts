// Runs examples/evaluation-proxy.js as a user would (the package resolved from dist/: `npm test` builds it first).
import { execFile } from 'node:child_process';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { expect, it } from 'vitest';

const root = path.resolve(__dirname, '..', '..');

it('examples/evaluation-proxy.js: evaluateV2 never waits, prepareUser / evaluateV2Async are exact', async () => {
  const { stdout } = await promisify(execFile)(process.execPath, [path.join(root, 'examples', 'evaluation-proxy.js')], {
    cwd: root,
    timeout: 60_000,
  });
  expect(stdout).toContain('ada, first evaluateV2: off');
  expect(stdout).toContain('grace, evaluateV2Async: on');
  expect(stdout).toContain('ada, after prepareUser: on');
  expect(stdout).toContain('linus: off');
  expect(stdout).toContain('membership lookups: 3');
});
