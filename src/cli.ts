#!/usr/bin/env node
/**
 * amplitude-experiment: the package's command line (package.json "bin").
 *
 *   amplitude-experiment eval --flags FILE --user JSON|@FILE [--flag KEY]... [--json]
 *       evaluate flags from a file for one user and print each variant and why
 *   amplitude-experiment serve --flags FILE [--port N] [--host H] [--api-key KEY]...
 *       run the local Amplitude-compatible server (any Amplitude SDK can point at it)
 *   amplitude-experiment pull --key KEY [--server-zone us|eu] [--server-url URL] --out FILE
 *       save a deployment's flag configs (GET /sdk/v2/flags) to a file, atomically
 *   amplitude-experiment <command> --help
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { normalizeServerZone, serverUrlsFor } from './config/common';
import { urlOption } from './config/option-table';
import { apiKeyAuthorization, sdkHeaders } from './util/auth';
import { LocalEvaluationClient } from './local/client';
import { unreachableReason } from './local/flag-poller';
import { checkFlagResponse, previewPayload } from './local/sources/flag-response';
import type { ConditionDetail, EvaluationDetail } from './engine/details';
import type { ExperimentUser } from './types';
import { VERSION } from './version';
import { errorMessage } from './util/error-message';

/** Each command's help: what `amplitude-experiment <command> --help` prints. */
const COMMANDS = {
  eval: `usage: amplitude-experiment eval --flags FILE --user JSON|@FILE [--flag KEY]... [--json]

Evaluate the flags in FILE for one user, locally, and print each variant and why
(matched segment and conditions, bucketing, dependencies).

  --flags FILE     a JSON array of v2 flag configs (as GET /sdk/v2/flags returns, or \`pull\` saves)
  --user JSON      the user, as JSON text, or @path to a JSON file
  --flag KEY       only this flag (and what it depends on); repeat for more. Default: every flag
  --json           print the evaluation details as JSON instead of text

Every option also takes the --option=value form.
Exit status: 0 on success, 1 when FILE is not a usable flag payload or a --flag is not in it, 2 on bad arguments.`,
  serve: `usage: amplitude-experiment serve --flags FILE [--port N] [--host HOST] [--api-key KEY]...

Run the local Amplitude-compatible dev server: flag configs, the SSE stream, remote
evaluation and cohorts, so any Amplitude SDK can point its serverUrl at it.

  --flags FILE     a JSON array of v2 flag configs to serve
  --port N         port to listen on (default: a free one, printed at start)
  --host HOST      interface to bind (default 127.0.0.1)
  --api-key KEY    accept only this deployment key; repeat for more. Default: any key

Every option also takes the --option=value form. Stops on SIGINT or SIGTERM.`,
  pull: `usage: amplitude-experiment pull --key KEY [--server-zone us|eu] [--server-url URL] --out FILE

Save a deployment's flag configs (GET /sdk/v2/flags) to FILE, atomically, for
\`eval\`, \`serve\`, the flagsFile option or bootstrap.

  --key KEY            a server deployment key
  --server-zone ZONE   us (default) or eu
  --server-url URL     another flag server (overrides --server-zone)
  --out FILE           where to write the JSON array

Every option also takes the --option=value form.
Exit status: 0 on success, 1 when the server cannot be reached, refuses or answers something else, 2 on bad arguments.`,
} as const;

type Command = keyof typeof COMMANDS;

const USAGE = `usage:
  amplitude-experiment eval --flags FILE --user JSON|@FILE [--flag KEY]... [--json]
  amplitude-experiment serve --flags FILE [--port N] [--host HOST] [--api-key KEY]...
  amplitude-experiment pull --key KEY [--server-zone us|eu] [--server-url URL] --out FILE
  amplitude-experiment <command> --help    (or: amplitude-experiment help <command>)
  amplitude-experiment --version`;

const isHelp = (arg: string | undefined): boolean => arg === '--help' || arg === '-h';

export interface CliIo {
  out(line: string): void;
  err(line: string): void;
}

class UsageError extends Error {}

interface Parsed {
  values: Map<string, string[]>;
  switches: Set<string>;
}

/** `--name=value` as [name, value]; [arg, undefined] for anything else. */
function splitInline(arg: string): [string, string | undefined] {
  const eq = arg.indexOf('=');
  return arg.startsWith('--') && eq > 2 ? [arg.slice(0, eq), arg.slice(eq + 1)] : [arg, undefined];
}

function parse(argv: readonly string[], valued: readonly string[], switches: readonly string[]): Parsed {
  const out: Parsed = { values: new Map(), switches: new Set() };
  for (let i = 0; i < argv.length; i++) {
    const [arg, inline] = splitInline(argv[i]);
    if (switches.includes(arg)) {
      if (inline !== undefined) throw new UsageError(`${arg} takes no value`);
      out.switches.add(arg);
    } else if (valued.includes(arg)) {
      // `--name=value` says where the value is: it may start with '--'.
      const value = inline ?? argv[++i];
      if (value === undefined || value === '' || (inline === undefined && value.startsWith('--'))) {
        throw new UsageError(`${arg} needs a value`);
      }
      out.values.set(arg, [...(out.values.get(arg) ?? []), value]);
    } else {
      throw new UsageError(`unknown argument ${arg}`);
    }
  }
  return out;
}

/** `--name=value` arguments split in two, for a parser that takes only `--name value` (serve's). */
function splitInlineValues(argv: readonly string[]): string[] {
  return argv.flatMap((arg) => {
    const [name, value] = splitInline(arg);
    return value === undefined ? [arg] : [name, value];
  });
}

function one(p: Parsed, name: string, required: true): string;
function one(p: Parsed, name: string, required?: false): string | undefined;
function one(p: Parsed, name: string, required = false): string | undefined {
  const v = p.values.get(name);
  if (!v || v.length === 0) {
    if (required) throw new UsageError(`${name} is required`);
    return undefined;
  }
  return v[v.length - 1];
}

const selectorText = (selector: unknown[]): string =>
  (selector[0] === 'context' && selector[1] === 'user' ? selector.slice(2) : selector).join('.');

function conditionText(c: ConditionDetail): string {
  return `${selectorText(c.selector)} ${c.op} ${JSON.stringify(c.values)} (saw ${JSON.stringify(c.actual)})`;
}

/** One line (plus indented detail lines) per flag. */
export function describeDetail(d: EvaluationDetail): string[] {
  const variant = d.variant
    ? `${d.variant.key}${d.variant.value !== undefined && d.variant.value !== d.variant.key ? ` = ${JSON.stringify(d.variant.value)}` : ''}`
    : '(none)';
  const lines = [`${d.flagKey}: ${variant}  [${d.reason}]`];
  const seg = d.segmentIndex >= 0 ? `segment ${d.segmentIndex}${d.segmentName ? ` "${d.segmentName}"` : ''}` : undefined;
  if (d.reason === 'NO_MATCH') lines.push('  no segment gave a variant (evaluateV2 leaves this flag out)');
  if (seg) lines.push(`  ${seg}`);
  if (d.matchedConditions) for (const c of d.matchedConditions) lines.push(`    matched: ${conditionText(c)}`);
  if (d.dependency)
    lines.push(`    decided by flag ${d.dependency.flagKey} (its variant: ${JSON.stringify(d.dependency.variant)})`);
  const b = d.bucket;
  if (b) {
    if (b.value === null) {
      lines.push(`    bucketing: no ${selectorText(b.selector)} on the user, so the segment's own variant`);
    } else {
      lines.push(`    bucketing: murmur3("${b.salt}/${b.value}") = ${b.hash}`);
      const alloc =
        b.allocationIndex !== undefined && b.allocationIndex >= 0
          ? `in allocation ${b.allocationIndex} ${JSON.stringify(b.allocationRange)}`
          : 'in no allocation';
      lines.push(`      ${b.hash} % 100 = ${b.allocationValue}, ${alloc}`);
      if (b.allocationIndex !== undefined && b.allocationIndex >= 0) {
        const dist =
          b.distributionIndex !== undefined && b.distributionIndex >= 0
            ? `in distribution ${b.distributionIndex} ${JSON.stringify(b.distributionRange)}`
            : 'in no distribution';
        lines.push(`      floor(${b.hash} / 100) = ${b.distributionValue}, ${dist}`);
      }
    }
  }
  // Segments tried before the one that decided: the first condition that failed in each OR-group.
  for (const s of d.segments) {
    if (s.index === d.segmentIndex) continue;
    const failed = s.conditionGroups.map((g) => g.find((c) => !c.matched)).filter((c): c is ConditionDetail => !!c);
    const why = failed.length > 0 ? failed.map(conditionText).join('; ') : s.matched ? 'no variant' : 'conditions not met';
    lines.push(`  skipped segment ${s.index}${s.name ? ` "${s.name}"` : ''}: ${why}`);
  }
  if (d.missingCohorts.length > 0) lines.push(`  cohorts not loaded: ${d.missingCohorts.join(', ')}`);
  return lines;
}

/**
 * The flags file's text, once it is known to be a JSON array; otherwise a
 * message naming the file and saying why it is not a flag payload.
 */
function readFlagsFile(file: string): { text: string } | { problem: string } {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    return { problem: `cannot read the flags file ${file}: ${(err as Error).message}` };
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    return {
      problem: `${file} is not a usable flag payload: it is not valid JSON (${escapeControls((err as Error).message)}); it starts ${previewPayload(text)}`,
    };
  }
  if (!Array.isArray(parsed)) {
    const got = parsed === null ? 'null' : typeof parsed === 'object' ? 'an object' : `a ${typeof parsed}`;
    return {
      problem: `${file} is not a usable flag payload: it must be a JSON array of flag configs (as GET /sdk/v2/flags returns, or \`pull\` saves), got ${got}`,
    };
  }
  return { text };
}

/** JSON.parse's messages quote the input: escape its control characters (newlines, terminal escapes). */
function escapeControls(text: string): string {
  // eslint-disable-next-line no-control-regex -- control characters are what this replaces
  return text.replace(/[\u0000-\u001f\u007f-\u009f]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

function readUser(text: string): ExperimentUser {
  const raw = text.startsWith('@') ? fs.readFileSync(text.slice(1), 'utf8') : text;
  let user: unknown;
  try {
    user = JSON.parse(raw);
  } catch (err) {
    throw new UsageError(`--user is not valid JSON: ${escapeControls((err as Error).message)}`);
  }
  if (user === null || typeof user !== 'object' || Array.isArray(user)) throw new UsageError('--user must be a JSON object');
  return user;
}

async function evalCommand(argv: readonly string[], io: CliIo): Promise<number> {
  const p = parse(argv, ['--flags', '--user', '--flag'], ['--json']);
  const file = one(p, '--flags', true);
  const user = readUser(one(p, '--user', true));
  const flagKeys = p.values.get('--flag');
  const errors: string[] = [];
  const logger = {
    debug() {},
    info() {},
    warn: (m: unknown) => void errors.push(String(m)),
    error: (m: unknown) => void errors.push(String(m)),
  };
  const flags = readFlagsFile(file);
  if ('problem' in flags) {
    io.err(flags.problem);
    return 1;
  }
  const client = new LocalEvaluationClient('cli', { bootstrap: flags.text, logger });
  try {
    for (const e of errors) io.err(e);
    if (!client.hasFlags) return 1;
    const details = client.evaluateV2Details(user, flagKeys);
    for (const key of flagKeys ?? []) if (!(key in details)) io.err(`flag ${key} is not in ${file}`);
    if (p.switches.has('--json')) {
      io.out(JSON.stringify(details, null, 2));
    } else {
      for (const d of Object.values(details)) for (const line of describeDetail(d)) io.out(line);
    }
    return flagKeys && flagKeys.some((k) => !(k in details)) ? 1 : 0;
  } finally {
    await client.close();
  }
}

async function serveCommand(argv: readonly string[], io: CliIo): Promise<number> {
  // The local server's own command line (src/dev-server/cli.ts) takes the same options.
  const { runCli } = await import('./dev-server/cli');
  const args = splitInlineValues(argv);
  // The same check and message as eval's, before the server starts.
  const flagsAt = args.lastIndexOf('--flags');
  const file = flagsAt >= 0 ? args[flagsAt + 1] : undefined;
  if (file !== undefined && !file.startsWith('--')) {
    const flags = readFlagsFile(file);
    if ('problem' in flags) {
      io.err(flags.problem);
      return 1;
    }
  }
  const server = await runCli(args);
  io.out(`Amplitude-compatible local server listening on ${server.url}`);
  io.out(`point an SDK at it: serverUrl '${server.url}' (any deployment key unless --api-key is given)`);
  await new Promise<void>((resolve) => {
    const stop = (): void => void server.close().then(resolve);
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  return 0;
}

async function pullCommand(argv: readonly string[], io: CliIo): Promise<number> {
  const p = parse(argv, ['--key', '--server-zone', '--server-url', '--out'], []);
  const key = one(p, '--key', true);
  const out = one(p, '--out', true);
  const zone = one(p, '--server-zone');
  if (zone !== undefined && !['us', 'eu'].includes(zone.toLowerCase())) throw new UsageError('--server-zone must be us or eu');
  const base = urlOption('serverUrl', one(p, '--server-url'), serverUrlsFor(normalizeServerZone(zone)).flags);
  const url = `${base}/sdk/v2/flags`;
  let response: Response;
  let body: Buffer;
  try {
    response = await fetch(url, {
      headers: sdkHeaders(apiKeyAuthorization(key), `experiment-native-cli/${VERSION}`),
      signal: AbortSignal.timeout(PULL_TIMEOUT_MILLIS),
    });
    body = Buffer.from(await response.arrayBuffer());
  } catch (err) {
    io.err(`GET ${url} failed: ${transportFailure(err)}`);
    return 1;
  }
  if (response.status !== 200) {
    io.err(
      `GET ${url}: status ${response.status}${response.status === 401 ? ' (check the deployment key: a server deployment key is needed)' : ''}`,
    );
    return 1;
  }
  let flags: unknown[];
  try {
    // A body that does not start with '[' is refused here; one that does and parses is an array.
    checkFlagResponse(url, response.headers.get('content-type') ?? '', body);
    flags = JSON.parse(body.toString('utf8')) as unknown[];
  } catch (err) {
    const why =
      err instanceof SyntaxError ? `the answer is not valid JSON (${escapeControls(err.message)})` : (err as Error).message;
    io.err(`GET ${url}: ${why}`);
    return 1;
  }
  const target = path.resolve(out);
  const temp = `${target}.${process.pid}.tmp`;
  fs.mkdirSync(path.dirname(target), { recursive: true });
  fs.writeFileSync(temp, JSON.stringify(flags, null, 2) + '\n');
  fs.renameSync(temp, target);
  io.out(`saved ${flags.length} flag configs to ${out}`);
  return 0;
}

const PULL_TIMEOUT_MILLIS = 30_000;

/** Why a request failed before any answer: fetch's own message is only "fetch failed", the reason is in its causes. */
function transportFailure(err: unknown): string {
  if (err instanceof Error && err.name === 'TimeoutError') return `no answer within ${PULL_TIMEOUT_MILLIS / 1000} s`;
  const messages: string[] = [];
  let e: unknown = err;
  for (let depth = 0; depth < 5 && e instanceof Error; depth++) {
    if (e.message !== '' && e.message !== 'fetch failed') messages.push(e.message);
    // Every address of a host name refused: one error per address.
    if (e instanceof AggregateError && e.message === '') messages.push(e.errors.map(String).join(', '));
    e = e.cause;
  }
  const unreachable = unreachableReason(err);
  const hint = unreachable === undefined ? '' : `; ${unreachable}: check --server-url`;
  return `${messages.length > 0 ? messages.join(': ') : String(err)}${hint}`;
}

/** Run the CLI; resolves with the exit code. */
export async function main(
  argv: readonly string[],
  io: CliIo = { out: (l) => console.log(l), err: (l) => console.error(l) },
): Promise<number> {
  const [command, ...rest] = argv;
  try {
    if (command !== undefined && command in COMMANDS && rest.some(isHelp)) {
      io.out(COMMANDS[command as Command]);
      return 0;
    }
    switch (command) {
      case 'eval':
        return await evalCommand(rest, io);
      case 'serve':
        return await serveCommand(rest, io);
      case 'pull':
        return await pullCommand(rest, io);
      case '--version':
      case '-v':
        io.out(VERSION);
        return 0;
      case 'help':
        if (rest[0] !== undefined) {
          if (!(rest[0] in COMMANDS)) throw new UsageError(`unknown command ${rest[0]}`);
          io.out(COMMANDS[rest[0] as Command]);
          return 0;
        }
        io.out(USAGE);
        return 0;
      case undefined:
      case '--help':
      case '-h':
        io.out(USAGE);
        return command === undefined ? 2 : 0;
      default:
        throw new UsageError(`unknown command ${command}`);
    }
  } catch (err) {
    if (err instanceof UsageError) {
      const usage =
        command !== undefined && command in COMMANDS
          ? `${COMMANDS[command as Command].split('\n')[0]}\n(amplitude-experiment ${command} --help for details)`
          : USAGE;
      io.err(`${err.message}\n${usage}`);
      return 2;
    }
    io.err(errorMessage(err));
    return 1;
  }
}

if (require.main === module) {
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (err: unknown) => {
      console.error(err);
      process.exitCode = 1;
    },
  );
}
