import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { LocalEvaluationClient } from '../../src/local/client';
import { capturingLogger, closeClientsAfterEach, eventually, tempDir, track } from '../support';

const flag = (value: string): unknown[] => [{ key: 'f', segments: [{ variant: 'v' }], variants: { v: { key: 'v', value } } }];

closeClientsAfterEach();

function tempFile(content: string): string {
  const file = path.join(tempDir('flags-file'), 'flags.json');
  fs.writeFileSync(file, content);
  return file;
}

describe('flagsFile', () => {
  it('loads at start, reloads on change (in place and by rename), keeps the last good flags on a bad file', async () => {
    const file = tempFile(JSON.stringify(flag('one')));
    const logger = capturingLogger();
    const c = new LocalEvaluationClient('k', { flagsFile: file, logger, flagsFilePollIntervalMillis: 50 });
    track(c);
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
    const c = new LocalEvaluationClient('k', { flagsFile: path.join(tempDir('missing'), 'no-such-dir', 'flags.json') });
    track(c);
    await expect(c.start()).rejects.toThrow(/cannot be read/);
  });

  it('stop() stops watching', async () => {
    const file = tempFile(JSON.stringify(flag('one')));
    const c = new LocalEvaluationClient('k', { flagsFile: file, flagsFilePollIntervalMillis: 20 });
    track(c);
    await c.start();
    c.stop();
    fs.writeFileSync(file, JSON.stringify(flag('two')));
    // Several poll intervals: a live watcher would have reloaded by then (the test above shows it does).
    await new Promise((r) => setTimeout(r, 300));
    expect(c.evaluateV2({}).f.value).toBe('one');
  });
});
