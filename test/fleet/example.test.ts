// Runs examples/fleet.js as a user would (package resolved from dist/: `npm test` builds it first).
import { execFile } from 'node:child_process';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { redisAvailable } from '../support/redis';

const root = path.resolve(__dirname, '..', '..');

// Skipped only where redis-server is missing (the example then prints that it skipped; CI installs it).
describe.skipIf(!redisAvailable())('examples/fleet.js', () => {
  it('elects one writer, propagates a change, survives the writer being killed', async () => {
    const run = await promisify(execFile)(process.execPath, [path.join(root, 'examples', 'fleet.js')], {
      cwd: root,
      timeout: 90_000,
    }).catch((e: { stdout?: string; stderr?: string; message: string }) => ({
      stdout: `${e.stdout ?? ''}\n${e.stderr ?? ''}\n${e.message}`,
    }));
    const out = run.stdout;
    expect(out, out).toContain('roles: reader, reader, writer');
    expect(out, out).toMatch(/after the change, every process serves: off \(published version [2-9]\)/);
    expect(out, out).toMatch(/writer killed; new writer elected in .*: reader, writer/);
    expect(out, out).toMatch(/redis keys: .*:flags:<sha256> .*:lease .*:meta/);
  }, 120_000);
});
