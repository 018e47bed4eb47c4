/**
 * The amplitude-experiment command line. Each exit code (0, 1, 2) and `serve`'s SIGTERM are checked on the
 * command as a user runs it (node dist/cjs/cli.js; `npm run build:ts` first); the other cases call main(),
 * the CLI's whole logic, in this process (a Node process per case costs more CPU than the case itself).
 */
import { execFile, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../src/cli';
import { createLocalServer } from '../../src/dev-server';
import { deadUrl, useLocalServer, useTempDir } from '../support';

const root = path.resolve(__dirname, '..', '..');
const cli = path.join(root, 'dist', 'cjs', 'cli.js');
const flagsFile = path.join(root, 'examples', 'flags.json');
const run = promisify(execFile);

async function runCli(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [cli, ...args], { cwd: root, timeout: 30_000 });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

/** main() in this process, with what it prints collected as the process's stdout and stderr would be. */
async function runMain(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(args, { out: (l) => void out.push(`${l}\n`), err: (l) => void err.push(`${l}\n`) });
  return { code, stdout: out.join(''), stderr: err.join('') };
}

beforeAll(() => {
  expect(fs.existsSync(cli)).toBe(true); // built by `npm test` (pretest) or `npm run build:ts`
  expect(fs.readFileSync(cli, 'utf8').startsWith('#!/usr/bin/env node\n')).toBe(true);
});
const server = useLocalServer(() => ({ flags: fs.readFileSync(flagsFile, 'utf8'), apiKeys: ['server-key'] }), 'all');
const tmp = useTempDir('cli');

// Each test runs its own CLI processes (writing to names of its own): side by side, their start-ups overlap.
// runCli: the command as a process; runMain: main() in this process.
describe.concurrent('amplitude-experiment CLI', () => {
  it('package.json bin points at the CLI', ({ expect }) => {
    const pkg = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8'));
    expect(pkg.bin['amplitude-experiment']).toBe('dist/cjs/cli.js');
  });

  it('eval prints each variant and why', async ({ expect }) => {
    const user = JSON.stringify({ user_id: 'ada@example.com', device_id: 'd-1' });
    const r = await runCli('eval', '--flags', flagsFile, '--user', user, '--flag', 'pricing-page');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^pricing-page: treatment {2}\[TARGETING_MATCH\]$/m);
    expect(r.stdout).toContain('segment 0 "Internal testers"');
    expect(r.stdout).toContain('matched: user_id regex match ["@example\\\\.com$"] (saw "ada@example.com")');
  });

  it('eval --json gives the details, agreeing with evaluateV2 through the library', async ({ expect }) => {
    const user = { user_id: 'grace', device_id: 'device-grace', platform: 'iOS', version: '2.3.1' };
    const r = await runMain('eval', '--flags', flagsFile, '--user', JSON.stringify(user), '--json');
    expect(r.code).toBe(0);
    const details = JSON.parse(r.stdout) as Record<string, { variant?: { key: string }; reason: string }>;
    const { LocalEvaluationClient } = await import('../../src/local/client');
    const client = new LocalEvaluationClient('k', { bootstrap: fs.readFileSync(flagsFile, 'utf8') });
    const variants = client.evaluateV2(user);
    await client.close();
    expect(Object.keys(details).filter((k) => details[k].variant)).toEqual(Object.keys(variants));
    for (const [k, v] of Object.entries(variants)) expect(details[k].variant?.key).toBe(v.key);
  });

  it('eval: an unknown flag exits 1, bad arguments exit 2', async ({ expect }) => {
    const unknown = await runCli('eval', '--flags', flagsFile, '--user', '{}', '--flag', 'nope');
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain('flag nope is not in');
    const bad = await runMain('eval', '--flags', flagsFile, '--user', 'not json');
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--user is not valid JSON');
    expect((await runCli('frobnicate')).code).toBe(2);
  });

  it('eval: a flags file that is not a flag payload is named, with why; exit 1', async ({ expect }) => {
    const notJson = path.join(tmp.path, 'not-json.json');
    fs.writeFileSync(notJson, '<html>\u001b[2J');
    const a = await runMain('eval', '--flags', notJson, '--user', '{}');
    expect(a.code).toBe(1);
    expect(a.stderr.startsWith(`${notJson} is not a usable flag payload: it is not valid JSON (`)).toBe(true);
    expect(a.stderr).toMatch(/\); it starts "<html>\\u001b\[2J"\n$/);
    expect(a.stderr).not.toContain('\u001b');

    const object = path.join(tmp.path, 'object.json');
    fs.writeFileSync(object, '{"flags":[]}');
    const b = await runMain('eval', '--flags', object, '--user', '{}');
    expect(b.code).toBe(1);
    expect(b.stderr).toBe(
      `${object} is not a usable flag payload: it must be a JSON array of flag configs (as GET /sdk/v2/flags returns, or \`pull\` saves), got an object\n`,
    );

    const served = await runMain('serve', `--flags=${object}`, '--port=0');
    expect(served).toEqual({ code: 1, stdout: '', stderr: b.stderr });

    const missing = await runMain('eval', '--flags', path.join(tmp.path, 'absent.json'), '--user', '{}');
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain(`cannot read the flags file ${path.join(tmp.path, 'absent.json')}: ENOENT`);
    for (const r of [a, b, missing]) expect(r.stderr).not.toMatch(/bootstrap|previous flags/);
  });

  it('every option takes the --option=value form; a switch takes no value', async ({ expect }) => {
    const user = JSON.stringify({ user_id: 'ada@example.com', device_id: 'd-1' });
    const spaced = await runMain('eval', '--flags', flagsFile, '--user', user, '--flag', 'pricing-page');
    const inline = await runMain('eval', `--flags=${flagsFile}`, `--user=${user}`, '--flag=pricing-page');
    expect(inline).toEqual(spaced);
    expect(inline.stdout).toMatch(/^pricing-page: treatment {2}\[TARGETING_MATCH\]$/m);

    const out = path.join(tmp.path, 'inline-pulled.json');
    const pulled = await runMain('pull', '--key=server-key', `--server-url=${server.url}`, `--out=${out}`, '--server-zone=eu');
    expect(pulled.code).toBe(0);
    expect(JSON.parse(fs.readFileSync(out, 'utf8'))).toHaveLength(5);

    const switchValue = await runMain('eval', `--flags=${flagsFile}`, '--user={}', '--json=yes');
    expect(switchValue.code).toBe(2);
    expect(switchValue.stderr).toContain('--json takes no value');
    const empty = await runMain('eval', '--flags=', '--user={}');
    expect(empty.code).toBe(2);
    expect(empty.stderr).toContain('--flags needs a value');
  });

  it('pull: an unreachable server is named with the cause; a web page is named with its content-type; nothing written', async ({
    expect,
  }) => {
    const dead = await deadUrl();
    const out = path.join(tmp.path, 'never.json');
    const refused = await runMain('pull', '--key', 'k', '--server-url', dead, '--out', out);
    expect(refused.code).toBe(1);
    const port = new URL(dead).port;
    expect(refused.stderr).toBe(
      `GET ${dead}/sdk/v2/flags failed: connect ECONNREFUSED 127.0.0.1:${port}; nothing accepts connections there: check --server-url\n`,
    );

    const page = await createLocalServer({ apiKeys: ['k'] });
    try {
      page.injectFaults('flags', { status: 200, body: '<!doctype html><p>sign in', headers: { 'content-type': 'text/html' } });
      const html = await runMain('pull', '--key', 'k', '--server-url', page.url, '--out', out);
      expect(html.code).toBe(1);
      expect(html.stderr).toBe(
        `GET ${page.url}/sdk/v2/flags: ${page.url}/sdk/v2/flags answered 200 with a web page instead of flags (content-type "text/html", body "<!doctype html><p>sign in"); check serverUrl\n`,
      );
    } finally {
      await page.close();
    }
    expect(fs.existsSync(out)).toBe(false);
  });

  it("pull saves a deployment's flag configs; a rejected key exits 1 and writes nothing", async ({ expect }) => {
    const out = path.join(tmp.path, 'sub', 'pulled.json');
    const r = await runMain('pull', '--key', 'server-key', '--server-url', server.url, '--out', out);
    expect(r.code).toBe(0);
    expect(JSON.parse(fs.readFileSync(out, 'utf8'))).toEqual(JSON.parse(fs.readFileSync(flagsFile, 'utf8')));
    expect(r.stdout).toMatch(/saved 5 flag configs/);
    const auth = server.requests('flags').at(-1);
    expect(auth?.headers.authorization).toBe('Api-Key server-key');

    const other = path.join(tmp.path, 'other.json');
    const denied = await runMain('pull', '--key', 'wrong', '--server-url', server.url, '--out', other);
    expect(denied.code).toBe(1);
    expect(denied.stderr).toContain('status 401');
    expect(fs.existsSync(other)).toBe(false);
  });

  it('serve runs the local server on the flags file until SIGTERM', async ({ expect }) => {
    // The --option=value form, which serve's own parser hands on as --option value.
    const child = spawn(process.execPath, [cli, 'serve', `--flags=${flagsFile}`, '--port=0'], { cwd: root });
    try {
      const url = await new Promise<string>((resolve, reject) => {
        let text = '';
        child.stdout.on('data', (chunk: Buffer) => {
          text += chunk.toString();
          const m = /listening on (http:\/\/\S+)/.exec(text);
          if (m) resolve(m[1]);
        });
        child.once('exit', (code) => reject(new Error(`serve exited with ${code}`)));
      });
      const res = await fetch(`${url}/sdk/v2/flags`, { headers: { Authorization: 'Api-Key any' } });
      expect(res.status).toBe(200);
      expect(((await res.json()) as unknown[]).length).toBe(5);
    } finally {
      const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      expect(await exited).toBe(0);
    }
  });
});
