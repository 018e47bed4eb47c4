/**
 * A serverUrl that answers 200 with something other than flags (a web page, an
 * error text): the messages name the URL, the content-type and the first
 * bytes; a web page makes start() reject at once.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkFlagResponse, NotAFlagPayloadError, previewPayload } from '../../src/local/sources/flag-response';
import {
  API_KEY,
  capturingLogger,
  eventually,
  FAST_POLLING,
  FAST_START,
  flag,
  guardUnhandledRejections,
  localClient,
  tempDir,
  useLocalServer,
} from '../support';

guardUnhandledRejections();

const server = useLocalServer({ flags: [flag('a')], apiKeys: [API_KEY] });

const LOGIN_PAGE = '<!DOCTYPE html>\n<html><head><title>Sign in</title></head><body>' + 'x'.repeat(500) + '</body></html>';

describe('start() against a URL that answers 200 with a web page', () => {
  it('rejects at once, naming the URL, the content-type and the first bytes; no "previous flags"', async () => {
    server.injectFaults('flags', {
      status: 200,
      body: LOGIN_PAGE,
      headers: { 'content-type': 'text/html; charset=utf-8' },
      times: Infinity,
    });
    const logger = capturingLogger();
    const c = localClient({ serverUrl: server.url, logger }, FAST_START);
    const started = c.start();
    await expect(started).rejects.toThrow(
      `${server.url}/sdk/v2/flags answered 200 with a web page instead of flags (content-type "text/html; charset=utf-8", body "<!DOCTYPE html>\\n<html><head><title>Sign in</title></head><bo"…); check serverUrl. Polling continues in the background`,
    );
    expect(server.requests('flags')).toHaveLength(1);
    expect(logger.count('error', /start\(\) failed: .*answered 200 with a web page/)).toBe(1);
    expect(logger.lines.filter((l) => l.message.includes('previous flags'))).toEqual([]);
    expect(c.status()).toMatchObject({ state: 'error', flagCount: 0 });
  });

  it('a markup body without a content-type counts as a web page too', async () => {
    server.injectFaults('flags', { status: 200, body: '  <html>', headers: { 'content-type': '' }, times: Infinity });
    const c = localClient({ serverUrl: server.url, logger: capturingLogger() }, FAST_START);
    await expect(c.start()).rejects.toThrow(/answered 200 with a web page instead of flags \(.*body " {2}<html>"\)/);
    expect(server.requests('flags')).toHaveLength(1);
  });
});

describe('a 200 that is not a flag payload, but not a web page either', () => {
  it('is retried at start; the polls that get it warn with the URL and the body, and the flags stay', async () => {
    server.injectFaults('flags', { status: 200, body: 'Service busy', headers: { 'content-type': 'text/plain' } });
    const logger = capturingLogger();
    const c = localClient({ serverUrl: server.url, logger }, FAST_POLLING);
    await c.start();
    expect(server.requests('flags')).toHaveLength(2);
    expect(c.flagKeys()).toEqual(['a']);

    server.injectFaults('flags', { status: 200, body: '{"error":"quota"}', times: Infinity });
    const warning = `flag poll failed: ${server.url}/sdk/v2/flags answered 200 with something other than a flag payload, a JSON array of flags (content-type "application/json", body "{\\"error\\":\\"quota\\"}")`;
    await eventually(() => logger.count('warn', warning) > 0, 10_000, 'the warning');
    expect(c.flagKeys()).toEqual(['a']);
    expect(c.status().lastError).toContain('answered 200 with something other than a flag payload');
  });

  it('a payload the engine refuses says "no flags are in force yet" before the first flags, "keeping the previous flags" after', async () => {
    server.injectFaults('flags', { status: 200, body: '[{"garbage"' });
    const logger = capturingLogger();
    const c = localClient({ serverUrl: server.url, logger }, FAST_POLLING);
    await c.start();
    expect(logger.count('error', /flag configs from poll were not applied \(.*\); no flags are in force yet$/)).toBe(1);
    server.injectFaults('flags', { status: 200, body: '[{"garbage"', times: Infinity });
    await eventually(() => logger.count('error', /; keeping the previous flags$/) > 0, 10_000, 'the second error');
    expect(c.flagKeys()).toEqual(['a']);
  });

  it('a payload whose every flag is rejected keeps the flags and the last-known-good file; [] still clears them', async () => {
    const file = path.join(tempDir('lkg'), 'flags.json');
    const logger = capturingLogger();
    const c = localClient({ serverUrl: server.url, logger, persistence: { path: file } }, FAST_POLLING);
    await c.start();
    await eventually(() => fs.existsSync(file), 10_000, 'the last-known-good file');
    const saved = fs.readFileSync(file, 'utf8');
    for (const body of ['[{"garbage":1}]', '[1]', '[null]']) {
      server.clearRequests();
      server.injectFaults('flags', { status: 200, body, times: Infinity });
      await server.waitForRequests('flags', 3, 10_000);
      expect(c.flagKeys()).toEqual(['a']);
      server.clearFaults('flags');
    }
    expect(
      logger.count(
        'error',
        /flag configs from poll were not applied \(every flag was rejected \(1\): "#0": flag (has no string "key"|must be an object, got (a number|null))\); keeping the previous flags$/,
      ),
    ).toBe(3);
    expect(c.status().lastError).toContain('every flag was rejected');
    expect(fs.readFileSync(file, 'utf8')).toBe(saved);

    server.setFlags([]);
    await eventually(() => c.flagKeys().length === 0, 10_000, 'the empty payload');
    await eventually(() => fs.readFileSync(file, 'utf8').includes('"flags":[]'), 10_000, 'the empty payload persisted');
  });
});

describe('checkFlagResponse', () => {
  const check = (contentType: string, body: string): unknown => {
    try {
      checkFlagResponse('http://127.0.0.1:1/sdk/v2/flags', contentType, Buffer.from(body));
      return undefined;
    } catch (err) {
      return err;
    }
  };

  it('lets through anything that starts like a JSON array (after whitespace and a byte-order mark)', () => {
    expect(check('application/json', '[]')).toBeUndefined();
    expect(check('', ' \r\n\t[{"key":"a"}]')).toBeUndefined();
    expect(check('application/json', '\uFEFF[]')).toBeUndefined();
  });

  it('a web page is permanent; other bodies are not', () => {
    expect(check('application/xhtml+xml', '<html/>')).toMatchObject({ permanent: true });
    expect(check('TEXT/HTML', 'hello')).toMatchObject({ permanent: true });
    expect(check('text/plain', 'hello')).toMatchObject({ permanent: false });
    const empty = check('application/json', '');
    expect(empty).toBeInstanceOf(NotAFlagPayloadError);
    expect((empty as Error).message).toBe(
      'http://127.0.0.1:1/sdk/v2/flags answered 200 with something other than a flag payload, a JSON array of flags (content-type "application/json", empty body)',
    );
  });
});

describe('previewPayload', () => {
  it('escapes control characters and quotes, and marks a cut with …', () => {
    expect(previewPayload('a"b\n\u001b[31m')).toBe('"a\\"b\\n\\u001b[31m"');
    expect(previewPayload('abcdef', 3)).toBe('"abc"…');
    expect(previewPayload('abc', 3)).toBe('"abc"');
  });

  it('counts characters, not bytes or UTF-16 units', () => {
    expect(previewPayload(Buffer.from('héllo😀wörld'), 6)).toBe('"héllo😀"…');
    expect(previewPayload(Buffer.from('😀😀'), 2)).toBe('"😀😀"');
    expect(previewPayload('😀😀😀', 2)).toBe('"😀😀"…');
  });
});
