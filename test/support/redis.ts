/**
 * Real Redis for tests: starts `redis-server` / `redis-sentinel` processes on
 * random free ports on 127.0.0.1, each in its own temp dir, and always stops
 * them (stop()/stopAll(), plus a process 'exit' hook that kills whatever a
 * failing test left behind and removes the temp dirs).
 *
 *   const r = await startRedis({ password: 'pw' });           // standalone
 *   const c = await startRedisCluster({ password: 'pw' });    // 3 masters (+ replicas: 1 → 6 nodes)
 *   const s = await startRedisSentinel({ password: 'pw' });   // master, replica, sentinels
 *   afterAll(() => stopAllRedis());
 *
 * Admin commands go over a socket of their own (a few lines of RESP, no client
 * library), and through `redis-cli` only for what is the tool's own (`--scan`,
 * `--cluster create`), so this module works for any Redis client under test.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { join } from 'node:path';
import tls from 'node:tls';
import { inject } from 'vitest';
import { create as createTempDir, remove as removeTempDir } from './temp';

export const HOST = '127.0.0.1';

/** True when the binaries are installed (tests skip with a reason otherwise); looked up once, by global-setup.ts. */
export function redisAvailable(): boolean {
  return inject('redisAvailable') ?? false;
}

export interface TlsFiles {
  dir: string;
  cert: string;
  key: string;
  /** The self-signed certificate is its own CA: trust it with `{ ca: readFileSync(ca) }`. */
  ca: string;
}

export interface RedisProcess {
  readonly host: string;
  readonly port: number;
  readonly password?: string;
  /** redis:// (or rediss:// with TLS) URL including the password. */
  readonly url: string;
  readonly dir: string;
  readonly tls?: TlsFiles;
  readonly running: boolean;
  /** Graceful stop (SIGTERM, SIGKILL after 3 s); keeps the dir so restart() works. */
  stop(): Promise<void>;
  /** SIGKILL: a crash, not a shutdown. */
  kill(): Promise<void>;
  /** Start again on the same port with the same arguments. */
  restart(): Promise<void>;
  /** Pause the process (SIGSTOP) / resume it (SIGCONT): a hung server that keeps its sockets open. */
  freeze(): void;
  thaw(): void;
  /**
   * Run a command; resolves with its reply as redis-cli prints it (trimmed, arrays one element per line).
   * Arguments starting with `-` are redis-cli's own options (`--scan`, `-c`): those run redis-cli itself.
   */
  cli(...args: string[]): Promise<string>;
}

export interface StartOptions {
  password?: string;
  /** Serve TLS only (port is the TLS port); a self-signed cert for 127.0.0.1/localhost is made with openssl. */
  tls?: boolean;
  /** Extra `--name value` arguments for redis-server. */
  args?: string[];
}

// ---------------------------------------------------------------- bookkeeping

const live = new Set<Proc>();
const dirs = new Set<string>();
let hooked = false;

function hookExit(): void {
  if (hooked) return;
  hooked = true;
  process.on('exit', () => {
    for (const p of live) {
      try {
        p.child?.kill('SIGKILL');
      } catch {
        /* already gone */
      }
    }
  });
}

function tempDir(prefix: string): string {
  hookExit();
  const d = createTempDir(prefix);
  dirs.add(d);
  return d;
}

/** Stop every process this module started and remove every temp dir it made. */
export async function stopAllRedis(): Promise<void> {
  await Promise.all([...live].map((p) => p.stop()));
  for (const d of dirs) removeTempDir(d);
  dirs.clear();
}

// ---------------------------------------------------------------- ports

function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.createServer();
    s.once('error', () => resolve(false));
    s.listen(port, HOST, () => s.close(() => resolve(true)));
  });
}

const taken = new Set<number>();

/**
 * A free port in 20000–22767 whose cluster-bus port (+10000) is free too. Both stay below Linux's ephemeral range
 * (32768 and up), where an outgoing connection of another test could take the port between this check and the
 * server's bind.
 */
export async function freePort(): Promise<number> {
  for (let i = 0; i < 200; i++) {
    const port = 20000 + Math.floor(Math.random() * 2768);
    if (taken.has(port) || taken.has(port + 10000)) continue;
    if ((await portFree(port)) && (await portFree(port + 10000))) {
      taken.add(port);
      return port;
    }
  }
  throw new Error('no free port found for redis-server');
}

// ---------------------------------------------------------------- processes

function run(cmd: string, args: string[], timeoutMillis = 20_000): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(cmd, args, { timeout: timeoutMillis }, (err, stdout, stderr) => {
      if (err) reject(new Error(`${cmd} ${args.join(' ')} failed: ${err.message}\n${stderr}`));
      else resolve(stdout.trim());
    });
  });
}

/** A self-signed certificate for 127.0.0.1/localhost, written into `dir` (by default a folder stopAllRedis removes). */
export async function makeTlsFiles(dir = tempDir('redis-tls')): Promise<TlsFiles> {
  const cert = join(dir, 'cert.pem');
  const key = join(dir, 'key.pem');
  await run('openssl', [
    'req',
    '-x509',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:prime256v1',
    '-nodes',
    '-keyout',
    key,
    '-out',
    cert,
    '-days',
    '1',
    '-subj',
    '/CN=localhost',
    '-addext',
    'subjectAltName=IP:127.0.0.1,DNS:localhost',
  ]);
  return { dir, cert, key, ca: cert };
}

/** Resolves once the server answers on its socket (PONG, NOAUTH and the like all mean it is up). */
async function waitReady(port: number, useTls: boolean, deadline: number, exited: () => string | null): Promise<void> {
  for (;;) {
    const why = exited();
    if (why !== null) throw new Error(why);
    const ok = await new Promise<boolean>((resolve) => {
      const sock = useTls ? tls.connect({ host: HOST, port, rejectUnauthorized: false }) : net.connect({ host: HOST, port });
      const done = (v: boolean): void => {
        sock.destroy();
        resolve(v);
      };
      sock.setTimeout(500, () => done(false));
      sock.once('error', () => done(false));
      sock.once(useTls ? 'secureConnect' : 'connect', () => sock.write('PING\r\n'));
      sock.once('data', (d) => done(!String(d).startsWith('-LOADING')));
    });
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`redis on port ${port} not ready in time`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** One RESP reply parsed from `buf` at `pos`: [value, next position], or undefined while incomplete. */
function parseReply(buf: Buffer, pos: number): [unknown, number] | undefined {
  const eol = buf.indexOf('\r\n', pos);
  if (eol < 0) return undefined;
  const head = buf.toString('utf8', pos + 1, eol);
  const next = eol + 2;
  switch (String.fromCharCode(buf[pos])) {
    case '+':
    case ':':
      return [head, next];
    case '-':
      return [new Error(head), next];
    case '$': {
      const n = Number(head);
      if (n < 0) return [null, next];
      if (buf.length < next + n + 2) return undefined;
      return [buf.toString('utf8', next, next + n), next + n + 2];
    }
    case '*': {
      const n = Number(head);
      const items: unknown[] = [];
      let at = next;
      for (let i = 0; i < n; i++) {
        const r = parseReply(buf, at);
        if (!r) return undefined;
        items.push(r[0]);
        at = r[1];
      }
      return [n < 0 ? null : items, at];
    }
    default:
      throw new Error(`unexpected RESP reply: ${head}`);
  }
}

/** A reply as redis-cli prints it when not on a terminal: arrays flattened one element per line. */
function render(value: unknown): string {
  if (Array.isArray(value)) return value.map(render).join('\n');
  return value === null ? '' : String(value);
}

class Proc implements RedisProcess {
  child: ChildProcess | null = null;
  private log = '';
  private exitPromise: Promise<void> = Promise.resolve();

  constructor(
    private readonly bin: string,
    private readonly argv: string[],
    readonly port: number,
    readonly dir: string,
    readonly password: string | undefined,
    readonly tls: TlsFiles | undefined,
  ) {}

  readonly host = HOST;

  get url(): string {
    const auth = this.password ? `:${encodeURIComponent(this.password)}@` : '';
    return `${this.tls ? 'rediss' : 'redis'}://${auth}${HOST}:${this.port}`;
  }

  get running(): boolean {
    return this.child !== null;
  }

  async start(): Promise<void> {
    const child = spawn(this.bin, this.argv, { cwd: this.dir, stdio: ['ignore', 'pipe', 'pipe'] });
    this.child = child;
    live.add(this);
    let exitedWith: string | null = null;
    this.exitPromise = new Promise((resolve) => {
      child.once('exit', (code, signal) => {
        exitedWith = `${this.bin} on port ${this.port} exited (${code ?? signal}):\n${this.log.slice(-2000)}`;
        if (this.child === child) this.child = null;
        live.delete(this);
        resolve();
      });
    });
    const keep = (d: Buffer): void => {
      this.log = (this.log + d.toString()).slice(-8000);
    };
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
    child.once('error', (e) => {
      exitedWith = `${this.bin} could not start: ${e.message}`;
    });
    try {
      await waitReady(this.port, this.tls !== undefined, Date.now() + 15_000, () => exitedWith);
    } catch (e) {
      await this.kill();
      throw e;
    }
  }

  private async signal(sig: NodeJS.Signals, graceMillis: number): Promise<void> {
    const child = this.child;
    if (!child) return;
    child.kill(sig);
    const timer = setTimeout(() => child.kill('SIGKILL'), graceMillis);
    await this.exitPromise;
    clearTimeout(timer);
  }

  stop(): Promise<void> {
    if (this.child) this.child.kill('SIGCONT');
    return this.signal('SIGTERM', 3000);
  }

  kill(): Promise<void> {
    return this.signal('SIGKILL', 1000);
  }

  async restart(): Promise<void> {
    await this.stop();
    await this.start();
  }

  freeze(): void {
    this.child?.kill('SIGSTOP');
  }

  thaw(): void {
    this.child?.kill('SIGCONT');
  }

  cli(...args: string[]): Promise<string> {
    // A redis-cli process costs more CPU than the command; only its own options need it.
    if (!args[0]?.startsWith('-')) return this.query(...args).then((out) => out.trim());
    const base = ['-h', HOST, '-p', String(this.port)];
    if (this.password) base.push('-a', this.password, '--no-auth-warning');
    if (this.tls) base.push('--tls', '--cacert', this.tls.ca);
    return run('redis-cli', [...base, ...args]);
  }

  /** One command over a socket, printed as redis-cli prints it; an error reply rejects. */
  query(...args: string[]): Promise<string> {
    const commands = this.password ? [['AUTH', this.password], args] : [args];
    const wire = commands.map((c) => `*${c.length}\r\n${c.map((a) => `$${Buffer.byteLength(a)}\r\n${a}\r\n`).join('')}`).join('');
    return new Promise((resolve, reject) => {
      const sock = this.tls
        ? tls.connect({ host: HOST, port: this.port, ca: readFileSync(this.tls.ca) })
        : net.connect({ host: HOST, port: this.port });
      let buf = Buffer.alloc(0);
      const fail = (e: Error): void => {
        sock.destroy();
        reject(e);
      };
      sock.setTimeout(5000, () => fail(new Error(`redis on port ${this.port}: no answer to ${args.join(' ')}`)));
      sock.once('error', fail);
      sock.once(this.tls ? 'secureConnect' : 'connect', () => sock.write(wire));
      sock.on('data', (d: Buffer) => {
        buf = Buffer.concat([buf, d]);
        const replies: unknown[] = [];
        let at = 0;
        while (replies.length < commands.length) {
          const r = parseReply(buf, at);
          if (!r) return;
          replies.push(r[0]);
          at = r[1];
        }
        sock.destroy();
        const failed = replies.find((r): r is Error => r instanceof Error);
        if (failed) reject(failed);
        else resolve(render(replies[replies.length - 1]));
      });
    });
  }
}

function serverArgs(port: number, dir: string, opts: StartOptions, tlsFiles?: TlsFiles): string[] {
  const a = ['--bind', HOST, '--dir', dir, '--save', '', '--appendonly', 'no', '--protected-mode', 'no'];
  if (tlsFiles) {
    a.push(
      '--port',
      '0',
      '--tls-port',
      String(port),
      '--tls-cert-file',
      tlsFiles.cert,
      '--tls-key-file',
      tlsFiles.key,
      '--tls-ca-cert-file',
      tlsFiles.ca,
      '--tls-auth-clients',
      'no',
      '--tls-replication',
      'yes',
      '--tls-cluster',
      'yes',
    );
  } else {
    a.push('--port', String(port));
  }
  if (opts.password) a.push('--requirepass', opts.password, '--masterauth', opts.password);
  return [...a, ...(opts.args ?? [])];
}

/** One standalone redis-server. */
export async function startRedis(opts: StartOptions = {}): Promise<RedisProcess> {
  const port = await freePort();
  const dir = tempDir('redis');
  const tlsFiles = opts.tls ? await makeTlsFiles() : undefined;
  const p = new Proc('redis-server', serverArgs(port, dir, opts, tlsFiles), port, dir, opts.password, tlsFiles);
  await p.start();
  return p;
}

// ---------------------------------------------------------------- cluster

export interface RedisCluster {
  readonly password?: string;
  /** All nodes; the first `masters` were created as masters. */
  readonly nodes: RedisProcess[];
  /** `{ host, port }` of every node: what a Cluster client takes as start nodes. */
  readonly startNodes: Array<{ host: string; port: number }>;
  /** Current master of the slot `key` hashes to. */
  masterFor(key: string): Promise<RedisProcess>;
  /** Manual failover of the master that owns `key`'s slot (needs replicas: 1); resolves once the slot map shows it. */
  failover(key: string): Promise<void>;
  stop(): Promise<void>;
}

async function until(check: () => Promise<boolean>, timeoutMillis: number, what: string): Promise<void> {
  const end = Date.now() + timeoutMillis;
  for (;;) {
    try {
      if (await check()) return;
    } catch {
      /* not yet */
    }
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** A Redis Cluster of 3 masters (and `replicas` replicas per master), created with `redis-cli --cluster create`. */
export async function startRedisCluster(opts: { password?: string; replicas?: 0 | 1 } = {}): Promise<RedisCluster> {
  const replicas = opts.replicas ?? 0;
  const count = 3 * (1 + replicas);
  const nodes: Proc[] = [];
  const stop = async (): Promise<void> => void (await Promise.all(nodes.map((n) => n.stop())));
  try {
    for (let i = 0; i < count; i++) {
      const port = await freePort();
      const dir = tempDir('redis-cluster');
      const args = serverArgs(port, dir, {
        password: opts.password,
        args: [
          '--cluster-enabled',
          'yes',
          '--cluster-config-file',
          join(dir, 'nodes.conf'),
          '--cluster-node-timeout',
          '1000',
          '--cluster-replica-validity-factor',
          '0',
          // Replicas sync at once (Redis waits 5 s by default for more replicas to share a diskless sync).
          '--repl-diskless-sync-delay',
          '0',
        ],
      });
      const p = new Proc('redis-server', args, port, dir, opts.password, undefined);
      nodes.push(p);
    }
    await Promise.all(nodes.map((n) => n.start()));
    const auth = opts.password ? ['-a', opts.password, '--no-auth-warning'] : [];
    await run(
      'redis-cli',
      [
        ...auth,
        '--cluster',
        'create',
        ...nodes.map((n) => `${HOST}:${n.port}`),
        '--cluster-replicas',
        String(replicas),
        '--cluster-yes',
      ],
      60_000,
    );
    await until(
      async () => {
        const infos = await Promise.all(nodes.map((n) => n.query('CLUSTER', 'INFO')));
        return infos.every((i) => i.includes('cluster_state:ok') && i.includes(`cluster_known_nodes:${count}`));
      },
      30_000,
      'cluster_state:ok on every node',
    );
  } catch (e) {
    await stop();
    throw e;
  }
  const byPort = (port: number): Proc => {
    const n = nodes.find((x) => x.port === port);
    if (!n) throw new Error(`no node on port ${port}`);
    return n;
  };
  const masterFor = async (key: string): Promise<Proc> => {
    const slot = Number(await nodes[0].cli('CLUSTER', 'KEYSLOT', key));
    for (const n of nodes) {
      if (!n.running) continue;
      const out = await n.cli('CLUSTER', 'SLOTS').catch(() => '');
      // redis-cli prints CLUSTER SLOTS as lines: start, end, ip, port, id, ...; find the range holding `slot`.
      const lines = out.split('\n');
      for (let i = 0; i + 3 < lines.length; i++) {
        const start = Number(lines[i]);
        const end = Number(lines[i + 1]);
        if (Number.isInteger(start) && Number.isInteger(end) && lines[i + 2] === HOST && slot >= start && slot <= end) {
          return byPort(Number(lines[i + 3]));
        }
      }
      if (out) break;
    }
    throw new Error(`no master found for slot ${slot}`);
  };
  return {
    password: opts.password,
    nodes,
    startNodes: nodes.map((n) => ({ host: HOST, port: n.port })),
    masterFor,
    async failover(key) {
      const master = await masterFor(key);
      const id = (await master.cli('CLUSTER', 'MYID')).trim();
      const replica = await (async () => {
        for (const n of nodes) {
          if (n === master) continue;
          const info = await n.cli('CLUSTER', 'NODES');
          const me = info.split('\n').find((l) => l.includes('myself'));
          if (me && me.split(' ')[3] === id) return n;
        }
        throw new Error('failover needs startRedisCluster({ replicas: 1 })');
      })();
      await replica.cli('CLUSTER', 'FAILOVER');
      await until(async () => (await replica.query('ROLE')).startsWith('master'), 30_000, 'cluster failover');
      // The other nodes learn of it by gossip: done once the slot map they serve names the new master too.
      await until(async () => (await masterFor(key)) === replica, 30_000, 'the slot map to show the failover');
    },
    stop,
  };
}

// ---------------------------------------------------------------- sentinel

export interface RedisSentinelSet {
  readonly password?: string;
  readonly masterName: string;
  readonly master: RedisProcess;
  readonly replica: RedisProcess;
  readonly sentinels: RedisProcess[];
  /** `{ host, port }` of every sentinel: what a Sentinel client takes. */
  readonly sentinelNodes: Array<{ host: string; port: number }>;
  /** Port of the current master as the sentinels see it. */
  currentMasterPort(): Promise<number>;
  /** SENTINEL FAILOVER; resolves once the sentinels report the other server as master and it says so itself. */
  failover(): Promise<void>;
  stop(): Promise<void>;
}

/** One master, one replica, and `sentinels` (default 2) sentinels with quorum 1. */
export async function startRedisSentinel(
  opts: { password?: string; sentinels?: number; masterName?: string } = {},
): Promise<RedisSentinelSet> {
  const masterName = opts.masterName ?? 'fleetmaster';
  // Full syncs start at once (Redis waits 5 s by default for more replicas to share a diskless sync).
  const syncNow = ['--repl-diskless-sync-delay', '0'];
  const master = (await startRedis({ password: opts.password, args: syncNow })) as Proc;
  const all: Proc[] = [master];
  const stop = async (): Promise<void> => void (await Promise.all(all.map((n) => n.stop())));
  try {
    const replica = (await startRedis({
      password: opts.password,
      args: [...syncNow, '--replicaof', HOST, String(master.port)],
    })) as Proc;
    all.push(replica);
    await until(async () => (await master.query('INFO', 'replication')).includes('connected_slaves:1'), 20_000, 'replica sync');
    await until(
      async () => (await replica.query('INFO', 'replication')).includes('master_link_status:up'),
      20_000,
      'replica link',
    );
    const sentinels: Proc[] = [];
    for (let i = 0; i < (opts.sentinels ?? 2); i++) {
      const port = await freePort();
      const dir = tempDir('redis-sentinel');
      const conf = join(dir, 'sentinel.conf');
      const lines = [
        `port ${port}`,
        `bind ${HOST}`,
        `dir ${dir}`,
        'protected-mode no',
        `sentinel monitor ${masterName} ${HOST} ${master.port} 1`,
        `sentinel down-after-milliseconds ${masterName} 1000`,
        `sentinel failover-timeout ${masterName} 5000`,
        `sentinel parallel-syncs ${masterName} 1`,
        // Known up front: otherwise a sentinel learns of the replica from the master's INFO, polled every 10 s.
        `sentinel known-replica ${masterName} ${HOST} ${replica.port}`,
      ];
      if (opts.password) lines.push(`sentinel auth-pass ${masterName} ${opts.password}`);
      writeFileSync(conf, lines.join('\n') + '\n');
      const s = new Proc('redis-sentinel', [conf], port, dir, undefined, undefined);
      all.push(s);
      sentinels.push(s);
      await s.start();
    }
    const currentMasterPort = async (): Promise<number> =>
      Number((await sentinels[0].query('SENTINEL', 'get-master-addr-by-name', masterName)).split('\n')[1]);
    await until(
      async () => (await sentinels[0].query('SENTINEL', 'replicas', masterName)).includes(String(replica.port)),
      20_000,
      'sentinel to discover the replica',
    );
    return {
      password: opts.password,
      masterName,
      master,
      replica,
      sentinels,
      sentinelNodes: sentinels.map((s) => ({ host: HOST, port: s.port })),
      currentMasterPort,
      async failover() {
        const before = await currentMasterPort();
        const target = before === master.port ? replica : master;
        await sentinels[0].cli('SENTINEL', 'FAILOVER', masterName);
        await until(async () => (await currentMasterPort()) !== before, 30_000, 'sentinel failover');
        await until(async () => (await target.query('ROLE')).startsWith('master'), 30_000, 'new master role');
      },
      stop,
    };
  } catch (e) {
    await stop();
    throw e;
  }
}
