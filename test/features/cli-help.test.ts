/** `amplitude-experiment <command> --help` (in-process: main() is the CLI's whole logic). */
import { describe, expect, it } from 'vitest';
import { main } from '../../src/cli';

async function run(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(argv, { out: (l) => void out.push(l), err: (l) => void err.push(l) });
  return { code, out: out.join('\n'), err: err.join('\n') };
}

describe('CLI help', () => {
  it.each(['eval', 'serve', 'pull'])("%s --help prints that command's usage and options, exit 0", async (command) => {
    for (const argv of [
      [command, '--help'],
      [command, '-h'],
      ['help', command],
      [command, '--flags', 'x.json', '--help'],
    ]) {
      const r = await run(...argv);
      expect(r.code, argv.join(' ')).toBe(0);
      expect(r.out).toMatch(new RegExp(`^usage: amplitude-experiment ${command} `));
      expect(r.out).toContain('  --');
      expect(r.err).toBe('');
    }
  });

  it('the general usage lists every command and how to get help on one', async () => {
    const r = await run('--help');
    expect(r.code).toBe(0);
    for (const c of ['eval', 'serve', 'pull']) expect(r.out).toContain(`amplitude-experiment ${c} `);
    expect(r.out).toContain('<command> --help');
    expect((await run()).code).toBe(2);
  });

  it("a bad argument names the command's usage; an unknown command the general one", async () => {
    const bad = await run('eval', '--bogus');
    expect(bad.code).toBe(2);
    expect(bad.err).toContain('unknown argument --bogus');
    expect(bad.err).toContain('usage: amplitude-experiment eval ');
    expect(bad.err).toContain('amplitude-experiment eval --help');
    const unknown = await run('help', 'frobnicate');
    expect(unknown.code).toBe(2);
    expect(unknown.err).toContain('unknown command frobnicate');
  });
});
