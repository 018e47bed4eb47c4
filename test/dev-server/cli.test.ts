import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseCliArgs, runCli } from '../../src/dev-server/cli';
import { tempDir } from '../support';
import { FLAGS } from './fixtures';

describe('local server command line', () => {
  it('parses its options', () => {
    expect(parseCliArgs(['--port', '8080', '--host', '::1', '--flags', 'f.json', '--api-key', 'a', '--api-key', 'b'])).toEqual({
      port: 8080,
      host: '::1',
      flagsFile: 'f.json',
      apiKeys: ['a', 'b'],
    });
    expect(parseCliArgs([])).toEqual({ port: 0, host: '127.0.0.1', apiKeys: [] });
  });

  it.each([['--port'], ['--port', 'x'], ['--port', '70000'], ['--bogus'], ['--flags', '--port'], ['--help']])(
    'rejects %j with the usage text',
    (...args) => {
      expect(() => parseCliArgs(args)).toThrow(/usage:/);
    },
  );

  it('serves a flags file with the given keys', async () => {
    const dir = tempDir('dev-server-cli');
    const file = join(dir, 'flags.json');
    writeFileSync(file, JSON.stringify(FLAGS));
    const server = await runCli(['--flags', file, '--api-key', 'k']);
    try {
      const ok = await fetch(server.url + '/sdk/v2/flags', { headers: { Authorization: 'Api-Key k' } });
      expect(await ok.json()).toEqual(FLAGS);
      expect((await fetch(server.url + '/sdk/v2/flags')).status).toBe(401);
    } finally {
      await server.close();
    }
  });

  it('refuses a flags file that is not a JSON array', async () => {
    const dir = tempDir('dev-server-cli');
    const file = join(dir, 'flags.json');
    writeFileSync(file, '{"flag": {}}');
    await expect(runCli(['--flags', file])).rejects.toThrow(/JSON array/);
  });
});
