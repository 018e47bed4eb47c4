import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { LocalEvaluationClient } from '../../src/local/client';
import { capturingLogger, eventually } from '../local/helpers';

const flag = (value: string): unknown[] => [
  { key: 'f', segments: [{ variant: 'v' }], variants: { v: { key: 'v', value } } },
];

const clients: LocalEvaluationClient[] = [];
const dirs: string[] = [];
function tempFile(content: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'flags-file-'));
  dirs.push(dir);
  const file = path.join(dir, 'flags.json');
  fs.writeFileSync(file, content);
  return file;
}
afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()));
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

describe('flagsFile', () => {
  it('loads at start, reloads on change (in place and by rename), keeps the last good flags on a bad file', async () => {
    const file = tempFile(JSON.stringify(flag('one')));
    const logger = capturingLogger();
    const c = new LocalEvaluationClient('k', { flagsFile: file, logger, flagsFilePollIntervalMillis: 50 });
    clients.push(c);
    await c.start();
    expect(c.evaluateV2({}).f.value).toBe('one');

    fs.writeFileSync(file, JSON.stringify(flag('two')));
    await eventually(() => c.evaluateV2({}).f.value === 'two', 10_000, 'in-place change');

    fs.writeFileSync(file, '{"not": "an array"');
    await eventually(() => logger.count('error', 'not applied') > 0, 10_000, 'bad file logged');
    expect(c.evaluateV2({}).f.value).toBe('two');

    const temp = `${file}.tmp`;
    fs.writeFileSync(temp, JSON.stringify(flag('three')));
    fs.renameSync(temp, file);
    await eventually(() => c.evaluateV2({}).f.value === 'three', 10_000, 'rename');
  });

  it('a missing file rejects start()', async () => {
    const c = new LocalEvaluationClient('k', { flagsFile: path.join(os.tmpdir(), 'no-such-dir-xyz', 'flags.json') });
    clients.push(c);
    await expect(c.start()).rejects.toThrow(/cannot be read/);
  });

  it('stop() stops watching', async () => {
    const file = tempFile(JSON.stringify(flag('one')));
    const c = new LocalEvaluationClient('k', { flagsFile: file, flagsFilePollIntervalMillis: 20 });
    clients.push(c);
    await c.start();
    c.stop();
    fs.writeFileSync(file, JSON.stringify(flag('two')));
    // Several poll intervals: a live watcher would have reloaded by then (the test above shows it does).
    await new Promise((r) => setTimeout(r, 300));
    expect(c.evaluateV2({}).f.value).toBe('one');
  });
});
