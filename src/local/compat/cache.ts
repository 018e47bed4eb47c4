/**
 * The official SDK's flag config cache: `FlagConfigCache` (async get, getAll,
 * put, putAll, delete, clear) and `InMemoryFlagConfigCache`, which keeps the
 * configs in memory and writes every change through to an optional second
 * cache (`store`), as @amplitude/experiment-node-server 1.13.6 does.
 */
import type { FlagConfig } from '../../types';

/** Stores flag configs, keyed by flag key. */
export interface FlagConfigCache {
  get(flagKey: string): Promise<FlagConfig | undefined>;
  getAll(): Promise<Record<string, FlagConfig>>;
  /** Put one config, replacing the one with the same key. */
  put(flagKey: string, flagConfig: FlagConfig): Promise<void>;
  /** Put several configs, replacing those with the same keys (the others stay). */
  putAll(flagConfigs: Record<string, FlagConfig>): Promise<void>;
  delete(flagKey: string): Promise<void>;
  clear(): Promise<void>;
}

const CACHE_METHODS = ['get', 'getAll', 'put', 'putAll', 'delete', 'clear'] as const;

/** Is `value` usable as a FlagConfigCache (every method present)? */
export function isFlagConfigCache(value: unknown): value is FlagConfigCache {
  return (
    typeof value === 'object' &&
    value !== null &&
    CACHE_METHODS.every((m) => typeof (value as Record<string, unknown>)[m] === 'function')
  );
}

export class InMemoryFlagConfigCache implements FlagConfigCache {
  private configs: Record<string, FlagConfig>;

  /**
   * @param store receives every change too (write-through), after the
   *   in-memory configs changed; its errors reject the call.
   * @param flagConfigs initial configs (not written to `store`).
   */
  constructor(
    private readonly store?: FlagConfigCache | null,
    flagConfigs: Record<string, FlagConfig> = {},
  ) {
    this.configs = { ...flagConfigs };
  }

  /** The configs now (a copy), synchronously. */
  getAllCached(): Record<string, FlagConfig> {
    return { ...this.read() };
  }

  async get(flagKey: string): Promise<FlagConfig | undefined> {
    const configs = this.read();
    return Object.prototype.hasOwnProperty.call(configs, flagKey) ? configs[flagKey] : undefined;
  }

  async getAll(): Promise<Record<string, FlagConfig>> {
    return { ...this.read() };
  }

  async put(flagKey: string, flagConfig: FlagConfig): Promise<void> {
    this.write({ ...this.read(), [flagKey]: flagConfig });
    await this.store?.put(flagKey, flagConfig);
  }

  async putAll(flagConfigs: Record<string, FlagConfig>): Promise<void> {
    const next = { ...this.read() };
    for (const key of Object.keys(flagConfigs)) {
      const config = flagConfigs[key];
      if (config) next[key] = config;
    }
    this.write(next);
    await this.store?.putAll(flagConfigs);
  }

  async delete(flagKey: string): Promise<void> {
    const next = { ...this.read() };
    delete next[flagKey];
    this.write(next);
    await this.store?.delete(flagKey);
  }

  async clear(): Promise<void> {
    this.write({});
    await this.store?.clear();
  }

  /** The configs in force (subclasses may build them lazily). Callers never modify the object returned. */
  protected read(): Record<string, FlagConfig> {
    return this.configs;
  }

  /** Replace the configs (subclasses may act on it, and throw to refuse). */
  protected write(next: Record<string, FlagConfig>): void {
    this.configs = next;
  }
}
