// Runs the README's quick start as a user would and checks what it prints
// against the official SDK's answers for the same bundled flags and users.
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { nativeAddonLoaded } from './support/engine';
import { officialEvaluate } from './support/official';

const root = path.resolve(__dirname, '..');

describe('examples', () => {
  it('quickstart.js runs offline and prints the official variants', () => {
    const out = execFileSync(process.execPath, [path.join(root, 'examples', 'quickstart.js')], {
      cwd: root,
      encoding: 'utf8',
      timeout: 60_000,
    });
    expect(out).toMatch(nativeAddonLoaded ? /^engine: native/m : /^engine: js/m);
    const flags = JSON.parse(fs.readFileSync(path.join(root, 'examples', 'flags.json'), 'utf8'));
    const expected = officialEvaluate(flags, {
      user_id: 'grace',
      device_id: 'device-grace',
      platform: 'iOS',
      version: '2.3.1',
    }) as Record<string, { key: string }>;
    const graceBlock = out.split('\ngrace\n')[1].split('\nlinus\n')[0];
    for (const [flagKey, variant] of Object.entries(expected)) {
      expect(graceBlock).toMatch(new RegExp(`^  ${flagKey} +${variant.key}\\b`, 'm'));
    }
    expect(out).toContain("evaluateV2(grace, ['search-ranking']) returns holdout-q4 + search-ranking");
    expect(out).toMatch(/remote fetchV2\(ada, \['pricing-page'\]\): treatment/);
  });
});
