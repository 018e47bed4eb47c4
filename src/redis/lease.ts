/**
 * The fleet's writer lease: one Redis key holding the holder's random token.
 * Taken with `SET key token NX PX ttl`, renewed with a compare-and-expire
 * script, released with compare-and-delete, so a process can only extend or
 * drop a lease it still holds. `validUntil` is a local, conservative bound
 * (measured from when the command was sent); the publish script checks the
 * token again in Redis, which is what actually fences a stale writer.
 */
import { crypto } from '../util/builtins';
import type { RedisClient } from './connection';

const RENEW = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) else return 0 end`;
const RELEASE = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) else return 0 end`;

export class Lease {
  readonly token: string;
  private until = 0;

  constructor(
    private readonly client: RedisClient,
    readonly key: string,
    readonly ttlMillis: number,
    token?: string,
    private readonly now: () => number = Date.now,
  ) {
    this.token = token ?? crypto().randomUUID();
  }

  /** Local view: true while the last acquire/renew is younger than the TTL. */
  get held(): boolean {
    return this.now() < this.until;
  }

  get validUntil(): number {
    return this.until;
  }

  /** Take the lease if free, or renew it if it is ours. Resolves whether we hold it. Rejects on Redis errors. */
  async acquire(): Promise<boolean> {
    const sent = this.now();
    const r = await this.client.set(this.key, this.token, 'PX', this.ttlMillis, 'NX');
    if (r === 'OK') {
      this.until = sent + this.ttlMillis;
      return true;
    }
    return this.renew(sent);
  }

  /** Extend a lease we hold. Resolves false (and forgets it) when someone else holds it. */
  async renew(sent = this.now()): Promise<boolean> {
    const r = await this.client.eval(RENEW, 1, this.key, this.token, String(this.ttlMillis));
    if (Number(r) === 1) {
      this.until = sent + this.ttlMillis;
      return true;
    }
    this.until = 0;
    return false;
  }

  /** Give the lease up (only if still ours), so another process can take over at once. Never rejects. */
  async release(): Promise<void> {
    this.until = 0;
    try {
      await this.client.eval(RELEASE, 1, this.key, this.token);
    } catch {
      /* it expires on its own */
    }
  }

  /** Forget the lease locally (it was found lost). */
  drop(): void {
    this.until = 0;
  }
}
