/**
 * TestData: flags built in code, for unit tests with no server (after
 * LaunchDarkly's TestData). Builders produce real v2 flag configs, evaluated
 * by the same engine as flags from Amplitude, and `td.update()` pushes them
 * into every client created with `{ dataSource: td }`, synchronously:
 *
 *   const td = new TestData();
 *   td.update(td.flag('checkout').variations('control', 'treatment').forUser('ada', 'treatment')
 *     .fallthroughVariation('control'));
 *   const client = new LocalEvaluationClient('test', { dataSource: td });
 *   client.evaluateV2({ user_id: 'ada' }).checkout.value; // 'treatment'
 */
import type { FlagDataSource } from '../local/data-source';
import type { EvaluationFlag } from '../types';

type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };
type JsonObject = { [key: string]: JsonValue };

/** The variant every Amplitude flag falls back to: key 'off', no value, metadata.default. */
export const OFF_VARIANT = 'off';

/** Amplitude's distribution space: hash / 100 is in [0, 42949673). */
const DISTRIBUTION_END = 42949673;

/** A variant definition: a value (string or any JSON, as Amplitude allows) and an optional payload. */
export interface TestVariant {
  value?: JsonValue;
  payload?: JsonValue;
  metadata?: JsonObject;
}

/** A user or group attribute: a top-level user field ('user_id', 'country'...) or a full selector. */
export type Attribute = string | readonly string[];

/** Condition operators of v2 flag configs. */
export type ConditionOperator =
  | 'is'
  | 'is not'
  | 'contains'
  | 'does not contain'
  | 'less'
  | 'less or equal'
  | 'greater'
  | 'greater or equal'
  | 'version less'
  | 'version less or equal'
  | 'version greater'
  | 'version greater or equal'
  | 'set is'
  | 'set is not'
  | 'set contains'
  | 'set does not contain'
  | 'set contains any'
  | 'set does not contain any'
  | 'regex match'
  | 'regex does not match';

export interface RolloutOptions {
  /** Attribute hashed for bucketing. Default 'device_id' (Amplitude's default); 'user_id' for per-user stickiness. */
  bucketBy?: Attribute;
  /** Share of users in the rollout at all, 0-100. Default 100 (the others get the fallthrough variation). */
  percentage?: number;
  /** Bucketing salt. Default: derived from the flag key, so results are stable across runs. */
  salt?: string;
}

interface Rule {
  name: string;
  conditions: JsonObject[];
  variant: string;
}

interface Rollout {
  weights: Array<[string, number]>;
  options: RolloutOptions;
}

/**
 * The selector of an attribute: 'user_id' -> ['context', 'user', 'user_id'], 'user_properties.plan' ->
 * ['context', 'user', 'user_properties', 'plan']; 'context.*' and 'result.*' paths and arrays are taken as they are.
 */
export function selectorFor(attribute: Attribute): string[] {
  if (typeof attribute !== 'string') return [...attribute];
  if (attribute.startsWith('context.') || attribute.startsWith('result.')) return attribute.split('.');
  return ['context', 'user', ...attribute.split('.')];
}

function clone<T>(value: T): T {
  return value === undefined ? value : (JSON.parse(JSON.stringify(value)) as T);
}

/** Builds one flag. Methods return the builder; `build()` gives the v2 flag config. */
export class FlagBuilder {
  private variantDefs = new Map<string, TestVariant>();
  private targeting = true;
  private offVariant = OFF_VARIANT;
  private fallthrough: string | undefined;
  private rules: Rule[] = [];
  private rollout_: Rollout | undefined;
  private metadata_: JsonObject = {};
  private dependencies_: string[] = [];
  private raw_: EvaluationFlag | undefined;

  constructor(readonly key: string) {
    this.metadata_ = { deployed: true, evaluationMode: 'local', flagType: 'release', flagVersion: 1 };
  }

  /**
   * The variants (besides 'off'): keys whose value is the key itself, or a record of key -> { value, payload }.
   * Replaces earlier variants.
   */
  variations(...keys: string[]): this;
  variations(variants: Record<string, TestVariant>): this;
  variations(...args: Array<string | Record<string, TestVariant>>): this {
    this.variantDefs = new Map();
    if (args.length === 1 && typeof args[0] === 'object') {
      for (const [key, def] of Object.entries(args[0])) this.variantDefs.set(key, clone(def));
    } else {
      for (const key of args as string[]) this.variantDefs.set(key, { value: key });
    }
    return this;
  }

  /** A release flag with variant 'on' (value 'on') served to everyone while on. */
  booleanFlag(): this {
    return this.variations('on').fallthroughVariation('on');
  }

  /** Targeting on (rules, rollout and fallthrough apply) or off (everyone gets the off variation). */
  on(on = true): this {
    this.targeting = on;
    return this;
  }

  off(): this {
    return this.on(false);
  }

  /** The variation served while targeting is off. Default 'off' (Amplitude's default variant). */
  offVariation(key: string): this {
    this.offVariant = key;
    return this;
  }

  /** The variation for users no rule or rollout picks. Default 'off'. */
  fallthroughVariation(key: string): this {
    this.fallthrough = key;
    return this;
  }

  /** Serve `variant` to these user ids (Amplitude's individual inclusions). */
  forUser(userIds: string | readonly string[], variant: string): this {
    return this.ifMatch('user_id', 'is', typeof userIds === 'string' ? [userIds] : userIds, variant, 'Individual Inclusions');
  }

  /** Serve `variant` to these device ids. */
  forDevice(deviceIds: string | readonly string[], variant: string): this {
    return this.ifMatch(
      'device_id',
      'is',
      typeof deviceIds === 'string' ? [deviceIds] : deviceIds,
      variant,
      'Individual Inclusions',
    );
  }

  /**
   * A targeting rule (a segment): `attribute op values` serves `variant`. Rules are checked in the order they
   * were added. Use `ifAll` for several conditions in one rule.
   */
  ifMatch(attribute: Attribute, op: ConditionOperator, values: readonly string[], variant: string, name?: string): this {
    return this.ifAll([[attribute, op, values]], variant, name);
  }

  /** A rule whose conditions must all hold. */
  ifAll(
    conditions: ReadonlyArray<readonly [Attribute, ConditionOperator, readonly string[]]>,
    variant: string,
    name = `Segment ${this.rules.length + 1}`,
  ): this {
    this.rules.push({
      name,
      variant,
      conditions: conditions.map(([attribute, op, values]) => ({ selector: selectorFor(attribute), op, values: [...values] })),
    });
    return this;
  }

  /**
   * Everyone not matched by a rule is split between variants by weight (relative, e.g. { control: 50,
   * treatment: 50 }), hashed the way Amplitude buckets: murmur3 of `salt/<bucketBy value>`.
   */
  rollout(weights: Record<string, number>, options: RolloutOptions = {}): this {
    const entries = Object.entries(weights).filter(([, w]) => w > 0);
    if (entries.length === 0) throw new Error(`rollout for ${this.key} needs at least one positive weight`);
    const percentage = options.percentage ?? 100;
    if (!(percentage >= 0 && percentage <= 100)) throw new Error('rollout percentage must be between 0 and 100');
    this.rollout_ = { weights: entries, options: { ...options } };
    return this;
  }

  /** Flags this one depends on (evaluated first; usable in selectors as ['result', key, 'key']). */
  dependsOn(...flagKeys: string[]): this {
    this.dependencies_ = flagKeys;
    return this;
  }

  /** Merge into the flag's metadata (flagType, experimentKey, ...). */
  metadata(metadata: JsonObject): this {
    this.metadata_ = { ...this.metadata_, ...clone(metadata) };
    return this;
  }

  /** Use this v2 flag config as is (its key must match); other settings are ignored. */
  raw(config: EvaluationFlag): this {
    if (config.key !== this.key) throw new Error(`raw config key ${config.key} does not match ${this.key}`);
    this.raw_ = clone(config);
    return this;
  }

  /** Copy of this builder (td.flag(key) starts from the current definition). */
  copy(): FlagBuilder {
    const b = new FlagBuilder(this.key);
    b.variantDefs = new Map([...this.variantDefs].map(([k, v]) => [k, clone(v)]));
    b.targeting = this.targeting;
    b.offVariant = this.offVariant;
    b.fallthrough = this.fallthrough;
    b.rules = clone(this.rules);
    b.rollout_ = this.rollout_ && { weights: [...this.rollout_.weights], options: { ...this.rollout_.options } };
    b.metadata_ = clone(this.metadata_);
    b.dependencies_ = [...this.dependencies_];
    b.raw_ = clone(this.raw_);
    return b;
  }

  /** The v2 flag config. */
  build(): EvaluationFlag {
    if (this.raw_) return clone(this.raw_);
    const variants: Record<string, JsonObject> = {};
    for (const [key, def] of this.variantDefs) {
      const v: JsonObject = { key };
      if (def.value !== undefined) v.value = def.value;
      if (def.payload !== undefined) v.payload = def.payload;
      if (def.metadata !== undefined) v.metadata = def.metadata;
      variants[key] = v;
    }
    if (!(OFF_VARIANT in variants)) variants[OFF_VARIANT] = { key: OFF_VARIANT, metadata: { default: true } };
    const known = (key: string, what: string): string => {
      if (!(key in variants)) throw new Error(`flag ${this.key}: ${what} "${key}" is not one of its variations`);
      return key;
    };
    const segments: JsonObject[] = [];
    if (!this.targeting) {
      segments.push({ metadata: { segmentName: 'Targeting off' }, variant: known(this.offVariant, 'off variation') });
    } else {
      for (const rule of this.rules) {
        segments.push({
          metadata: { segmentName: rule.name },
          conditions: [rule.conditions],
          variant: known(rule.variant, 'rule variation'),
        });
      }
      const fallthrough = known(this.fallthrough ?? OFF_VARIANT, 'fallthrough variation');
      const last: JsonObject = { metadata: { segmentName: 'All Other Users' }, variant: fallthrough };
      if (this.rollout_) {
        const { weights, options } = this.rollout_;
        const total = weights.reduce((sum, [, w]) => sum + w, 0);
        let cumulative = 0;
        const distributions = weights.map(([key, w]) => {
          const start = Math.floor((cumulative / total) * DISTRIBUTION_END);
          cumulative += w;
          const end = Math.floor((cumulative / total) * DISTRIBUTION_END);
          return { variant: known(key, 'rollout variation'), range: [start, end] };
        });
        last.bucket = {
          selector: selectorFor(options.bucketBy ?? 'device_id'),
          salt: options.salt ?? `td-${this.key}`,
          allocations: [{ range: [0, options.percentage ?? 100], distributions }],
        };
      }
      segments.push(last);
    }
    const flag: JsonObject = { key: this.key, metadata: clone(this.metadata_), segments, variants };
    if (this.dependencies_.length > 0) flag.dependencies = [...this.dependencies_];
    return flag as unknown as EvaluationFlag;
  }
}

/**
 * An in-memory flag source. Pass it as `dataSource` to any number of clients;
 * every `update` reaches them at once.
 */
export class TestData implements FlagDataSource {
  private readonly flags = new Map<string, FlagBuilder>();
  private readonly listeners = new Set<(payload: string) => void>();

  /** A builder for `key`: a copy of the current definition, or a new flag. Apply it with update(). */
  flag(key: string): FlagBuilder {
    return this.flags.get(key)?.copy() ?? new FlagBuilder(key);
  }

  /** Add or replace flags and push the new set to every client. */
  update(...builders: FlagBuilder[]): this {
    const built = builders.map((b) => [b, b.build()] as const); // validate all before changing anything
    for (const [b] of built) this.flags.set(b.key, b.copy());
    this.publish();
    return this;
  }

  /** Add or replace flags given as raw v2 flag configs. */
  updateRaw(...configs: EvaluationFlag[]): this {
    return this.update(...configs.map((c) => new FlagBuilder(c.key).raw(c)));
  }

  /** Remove flags and push. */
  delete(...keys: string[]): this {
    for (const key of keys) this.flags.delete(key);
    this.publish();
    return this;
  }

  /** The current flags as v2 configs (what clients are given). */
  configs(): EvaluationFlag[] {
    return [...this.flags.values()].map((b) => b.build());
  }

  /** The current flags as a payload string (what GET /sdk/v2/flags would return), e.g. for a flags file. */
  toJSON(): EvaluationFlag[] {
    return this.configs();
  }

  subscribe(listener: (payload: string) => void): () => void {
    this.listeners.add(listener);
    listener(JSON.stringify(this.configs()));
    return () => void this.listeners.delete(listener);
  }

  private publish(): void {
    const payload = JSON.stringify(this.configs());
    for (const listener of [...this.listeners]) listener(payload);
  }
}
