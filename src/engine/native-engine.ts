import type { EvaluationVariant, ExperimentUser, Variant, Variants } from '../types';
import {
  type BucketTrace,
  type ConditionTrace,
  type Engine,
  type EngineLog,
  type FlagSnapshot,
  FlagPayloadError,
  type FlagTrace,
  type RejectedFlag,
} from './types';
import type { FinalizeInfoOf, NativeAddon, NativeSnapshotHandle, NativeString } from './addon';
import { GuardedRegex, REGEX_BUDGET_MS, RegexOutcome } from './regex-guard';
import { userJson } from './user-json';
import { SlotCells, type SlotPlan, SlotPlanner } from './slot-values';
import { buildVariant, deepFreeze } from './variant';

// Little-endian, like every platform the addon ships for.
const asString = (v: NativeString): string =>
  typeof v === 'string' ? v : Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('utf16le');

type FinalizeInfo = FinalizeInfoOf<string>;

interface RawSegmentTrace {
  conditions: boolean;
  groups?: ConditionTrace[][];
  bucket?: BucketTrace;
  variant: number;
}

interface RawExplanation {
  flags: Array<{ flag: number; result: number; segments: RawSegmentTrace[] }>;
}

type JsonObject = Record<string, unknown>;

const toLowerCase = (text: NativeString): string => asString(text).toLowerCase();

class NativeFlagSnapshot implements FlagSnapshot {
  readonly size: number;
  readonly rejected: readonly RejectedFlag[];
  private readonly handle: NativeSnapshotHandle;
  private readonly info: FinalizeInfo;
  private readonly index = new Map<string, number>();
  /** Index of a flag keyed `__proto__` (-1: none): left out of results. */
  private readonly protoFlag: number;
  private readonly flags: Array<JsonObject | undefined>;
  private readonly results: Array<Variant | undefined>;
  private readonly output: Int32Array;
  private readonly input: Int32Array;
  /** Builds the all-flags result as one object literal (see compileResultBuilder). */
  private readonly buildAll: ResultBuilder | undefined;
  /** Per requested flag, made on its first one-key call: its result (with its dependencies') as one literal. */
  private readonly buildOne: Array<ResultBuilder | null | undefined>;
  private readonly planner: SlotPlanner;
  private readonly cells: SlotCells;
  /** Per flag (and for all flags), made on first use: how to send only what it reads; null: send the user. */
  private readonly plans: Array<SlotPlan | null | undefined>;
  private allPlan: SlotPlan | null | undefined;
  /** Counts evaluate/explain calls, so a call can tell that a user's getter made another one (evaluateNative). */
  private calls = 0;

  /**
   * `payload`: the bytes the handle was parsed from, owned by this snapshot
   * (flag JSON is sliced out of them later).
   */
  constructor(
    private readonly payload: Buffer,
    handle: NativeSnapshotHandle,
    private readonly warn: (message: string) => void,
  ) {
    const patterns = handle.regexPatterns().map(asString);
    // eslint-disable-next-line @typescript-eslint/no-unsafe-assignment -- new Array(n).fill(undefined) is typed any[]
    const compiled: Array<GuardedRegex | undefined> = new Array(patterns.length);
    const invalid: Array<[number, string]> = [];
    patterns.forEach((pattern, id) => {
      try {
        compiled[id] = new GuardedRegex(pattern);
      } catch (err) {
        invalid.push([id, (err as Error).message]);
      }
    });
    // The reference builds `new RegExp(filter)` per test; without flags a
    // compiled RegExp is stateless, so reusing it gives the same answers.
    const regexTest = (id: number, subject: NativeString): RegexOutcome => {
      const regex = compiled[id];
      if (regex === undefined) return RegexOutcome.NoMatch;
      const text = asString(subject);
      const outcome = regex.test(text);
      if (outcome === RegexOutcome.GaveUp) {
        warn(
          `regex condition /${regex.pattern}/ did not finish within ${REGEX_BUDGET_MS} ms on a long value; ` +
            'such conditions count as not holding (neither "regex match" nor "regex does not match")',
        );
      }
      return outcome;
    };
    const lowered = handle.nonAsciiContainsValues().map(toLowerCase);
    const raw = handle.finalize(invalid, lowered, regexTest, toLowerCase);
    this.info = {
      ...raw,
      keys: raw.keys.map(asString),
      slotKeys: raw.slotKeys.map(asString),
      variantKeys: raw.variantKeys.map((keys) => keys.map(asString)),
      rejected: raw.rejected.map((r) => ({ flagKey: asString(r.flagKey), reason: asString(r.reason) })),
    };
    this.handle = handle;
    this.output = this.info.output;
    this.input = this.info.input;
    this.size = this.info.keys.length;
    this.rejected = Object.freeze(this.info.rejected.map((r) => Object.freeze({ ...r })));
    this.info.keys.forEach((key, i) => this.index.set(key, i));
    this.protoFlag = this.index.get('__proto__') ?? -1;
    // eslint-disable-next-line @typescript-eslint/no-unsafe-assignment -- new Array(n).fill(undefined) is typed any[]
    this.flags = new Array(this.size);
    // eslint-disable-next-line @typescript-eslint/no-unsafe-assignment -- new Array(n).fill(undefined) is typed any[]
    this.results = new Array(this.info.resultCount);
    this.buildAll = compileResultBuilder(
      this.info.order.map((i) => this.info.keys[i]),
      { checked: false },
    );
    // eslint-disable-next-line @typescript-eslint/no-unsafe-assignment -- new Array(n) is typed any[]
    this.buildOne = new Array(this.size);
    this.planner = new SlotPlanner(this.info.slotParents, this.info.slotKeys);
    this.cells = new SlotCells(this.info.cells);
    // eslint-disable-next-line @typescript-eslint/no-unsafe-assignment -- new Array(n) is typed any[]
    this.plans = new Array(this.size);
  }

  keys(): string[] {
    return this.info.order.map((i) => this.info.keys[i]);
  }

  has(flagKey: string): boolean {
    return this.index.has(flagKey);
  }

  flag(flagKey: string): Record<string, unknown> | undefined {
    const i = this.index.get(flagKey);
    return i === undefined ? undefined : this.flagAt(i);
  }

  flagText(flagKey: string): string | undefined {
    const f = this.index.get(flagKey);
    if (f === undefined) return undefined;
    const start = this.info.payloadSpans[2 * f];
    return this.payload.toString('utf8', start, start + this.info.payloadSpans[2 * f + 1]);
  }

  cohortFlagKeys(): string[] {
    return this.info.cohortFlags.map((i) => this.info.keys[i]);
  }

  /** A flag's config as JSON.parse gives it, parsed from its span on first use. */
  private flagAt(f: number): JsonObject {
    let flag = this.flags[f];
    if (flag === undefined) {
      const start = this.info.payloadSpans[2 * f];
      flag = JSON.parse(this.payload.toString('utf8', start, start + this.info.payloadSpans[2 * f + 1])) as JsonObject;
      this.flags[f] = flag;
    }
    return flag;
  }

  /**
   * What the native entry points take as the flags to evaluate: -1 for all
   * (`flagKeys` absent or empty), else the number of known keys written into
   * the shared input buffer (0: none of them is known).
   */
  private requestKeys(flagKeys: readonly string[] | undefined): number {
    if (flagKeys === undefined || flagKeys === null || flagKeys.length === 0) return -1;
    const input = this.input;
    let n = 0;
    for (let i = 0; i < flagKeys.length && n < input.length; i++) {
      const idx = this.index.get(flagKeys[i]);
      if (idx !== undefined) input[n++] = idx;
    }
    return n;
  }

  evaluate(user: ExperimentUser | undefined, flagKeys?: readonly string[]): Variants {
    const keyCount = this.requestKeys(flagKeys);
    if (keyCount === 0) return {};
    const count = this.evaluateNative(user, keyCount, flagKeys);
    const output = this.output;
    if (keyCount === 1) {
      const one = this.oneFlagResult(count);
      if (one !== undefined) return one;
    } else if (keyCount < 0 && this.buildAll !== undefined && count === this.size) {
      // Every flag has a result (real configs end in a catch-all segment): make sure each is materialized, then
      // build the object in one literal. (The literal's function checking each result itself, instead of this
      // loop, was no faster at 100 flags and 1.6-1.7x slower at 1000: V8 handles that function much worse.)
      let complete = true;
      for (let i = 0; complete && i < count; i++) {
        const rid = output[2 * i + 1];
        if (rid < 0) complete = false;
        else if (this.results[rid] === undefined) this.materialize(output[2 * i], rid);
      }
      if (complete) return this.buildAll(this.results, output, count)!;
    }
    const out: Record<string, Variant> = {};
    const keys = this.info.keys;
    for (let i = 0; i < count; i++) {
      const rid = output[2 * i + 1];
      if (rid < 0) continue;
      const f = output[2 * i];
      // `out['__proto__'] = v` would make the variant the result's prototype
      // (for...in would list its fields); the official result never holds it.
      if (f === this.protoFlag) continue;
      out[keys[f]] = this.results[rid] ?? this.materialize(f, rid);
    }
    return out;
  }

  /**
   * The native evaluation, sending for the user: for one flag or all flags,
   * just the values their selectors read when that is possible
   * (slot-values.ts; as cells, or as JSON where a value needs it), else the
   * whole user's JSON.
   */
  private evaluateNative(user: ExperimentUser | undefined, keyCount: number, flagKeys?: readonly string[]): number {
    // The user's getters run while the arguments are prepared; one that evaluates flags on this snapshot writes
    // the shared key and cell buffers too (this.calls tells): ours are then written again, or JSON is sent.
    const call = ++this.calls;
    let cells: string | undefined;
    let json: string | undefined;
    if (typeof user === 'object' && user !== null && (keyCount < 0 || keyCount === 1)) {
      const plan = keyCount < 0 ? this.planForAll() : this.planFor(this.input[0]);
      const values = plan === null ? undefined : plan.values(user);
      if (values !== undefined) {
        try {
          cells = this.cells.write(values);
        } catch {
          // An array element's getter threw: the JSON form (or the whole user) handles and reports it.
        }
        if (this.calls !== call) cells = undefined;
        if (cells === undefined) json = plan!.json(values);
      }
    }
    if (cells === undefined && json === undefined) json = userJson(user, this.warn);
    if (this.calls !== call) this.requestKeys(flagKeys);
    return cells !== undefined
      ? this.handle.evaluateCells(cells, keyCount, this.cells.pairs)
      : this.handle.evaluate(json!, keyCount);
  }

  /**
   * A one-key call's result built in one literal (the flag and its dependencies, as the first such call's output
   * lists them), or undefined where the generic loop is needed: a flag without a result, one not materialized yet.
   */
  private oneFlagResult(count: number): Variants | undefined {
    const f = this.input[0];
    let build = this.buildOne[f];
    if (build === undefined) {
      // (The flags a one-key call lists are fixed per snapshot; the builder checks them anyway, two integer
      // compares per flag, rather than trust that.)
      const flags = Array.from({ length: count }, (_, i) => this.output[2 * i]);
      const keys = flags.map((i) => this.info.keys[i]);
      build = compileResultBuilder(keys, { checked: true, flags }) ?? null;
      this.buildOne[f] = build;
    }
    return build === null ? undefined : build(this.results, this.output, count);
  }

  private planFor(f: number): SlotPlan | null {
    let plan = this.plans[f];
    if (plan === undefined) {
      const slots = this.handle.readSlots(f);
      plan = (slots && this.planner.plan(slots)) ?? null;
      this.plans[f] = plan;
    }
    return plan;
  }

  private planForAll(): SlotPlan | null {
    if (this.allPlan === undefined) {
      const slots = this.handle.readSlots(-1);
      this.allPlan = (slots && this.planner.plan(slots)) ?? null;
    }
    return this.allPlan;
  }

  /** Not the hot path: a separate native entry point that also reports why (see FlagSnapshot.explain). */
  explain(user: ExperimentUser | undefined, flagKeys?: readonly string[]): FlagTrace[] {
    const keyCount = this.requestKeys(flagKeys);
    if (keyCount === 0) return [];
    const call = ++this.calls;
    const json = userJson(user, this.warn);
    if (this.calls !== call) this.requestKeys(flagKeys); // a getter evaluated flags meanwhile (see evaluateNative)
    const text = this.handle.explain(json, keyCount);
    const raw = JSON.parse(asString(text)) as RawExplanation;
    return raw.flags.map(({ flag: f, result: rid, segments }) => {
      const variantKeys = this.info.variantKeys[f];
      const segmentIndex = rid < 0 ? -1 : Math.floor((rid - this.info.resultBase[f]) / variantKeys.length);
      return {
        flagKey: this.info.keys[f],
        variant: rid < 0 ? undefined : (this.results[rid] ?? this.materialize(f, rid)),
        segmentIndex,
        segments: segments.map((s) => ({ ...s, variant: s.variant < 0 ? undefined : variantKeys[s.variant] })),
      };
    });
  }

  private materialize(f: number, rid: number): Variant {
    const variantKeys = this.info.variantKeys[f];
    const local = rid - this.info.resultBase[f];
    const segmentIndex = Math.floor(local / variantKeys.length);
    const variantKey = variantKeys[local % variantKeys.length];
    const flag = this.flagAt(f);
    const segment = (flag.segments as JsonObject[])[segmentIndex];
    const variant = (flag.variants as Record<string, EvaluationVariant>)[variantKey];
    const result = deepFreeze(buildVariant(flag, segment, variant));
    this.results[rid] = result;
    return result;
  }
}

/**
 * Checked builders give undefined where a flag has no result (output -1), its result is not materialized yet, or
 * the output is not the flags the builder was made for; unchecked ones trust the caller to have checked that.
 */
type ResultBuilder = (results: ReadonlyArray<Variant | undefined>, output: Int32Array, count: number) => Variants | undefined;

/**
 * A function returning `{ [keys[0]]: results[output[1]], [keys[1]]: results[output[3]], ... }` for an output
 * of `keys.length` flags. Checked (one key and its dependencies, a few members): for exactly the flag indices
 * `flags` in this order, and undefined when a result is missing. V8 builds such a literal with a precomputed
 * shape, about 30x faster than adding 100 keys one by one (3x for two). Undefined where code generation is
 * disabled or a key would change the object's prototype (`__proto__`, which the official SDK also cannot return).
 */
export function compileResultBuilder(
  keys: readonly string[],
  mode: { checked: false } | { checked: true; flags: readonly number[] },
): ResultBuilder | undefined {
  if (keys.length === 0 || keys.includes('__proto__')) return undefined;
  let body: string;
  if (mode.checked) {
    const sameFlags = mode.flags.map((f, i) => ` || o[${2 * i}] !== ${f}`).join('');
    // A flag without a result (-1) reads as undefined without indexing r with -1 (to V8 a negative index is a
    // named property, looked up on the prototype chain).
    const reads = keys.map((_, i) => `x${i} = o[${2 * i + 1}], v${i} = x${i} < 0 ? undefined : r[x${i}]`);
    const missing = keys.map((_, i) => `v${i} === undefined`);
    const members = keys.map((key, i) => `${JSON.stringify(key)}: v${i}`);
    body =
      `if (n !== ${keys.length}${sameFlags}) return undefined;\n` +
      `const ${reads.join(', ')};\nif (${missing.join(' || ')}) return undefined;\nreturn {${members.join(',')}};`;
  } else {
    body = `return {${keys.map((key, i) => `${JSON.stringify(key)}: r[o[${2 * i + 1}]]`).join(',')}};`;
  }
  try {
    // eslint-disable-next-line @typescript-eslint/no-implied-eval -- a compiled object literal: keys are JSON.stringify'd flag keys
    return new Function('r', 'o', 'n', body) as ResultBuilder;
  } catch {
    return undefined;
  }
}

/** One copy of the bytes, owned by the snapshot (a caller's buffer may change afterwards). */
function ownBytes(payload: string | Uint8Array): Buffer {
  return typeof payload === 'string' ? Buffer.from(payload, 'utf8') : Buffer.from(payload);
}

/** The addon's parse error (what is wrong, at which byte) as the engine's typed error. */
function payloadError(err: unknown): FlagPayloadError {
  return new FlagPayloadError((err as Error).message);
}

/** A snapshot's warnings: each distinct message once (a bad user or regex repeats on every call). */
function onceEach(log: EngineLog | undefined): (message: string) => void {
  if (log === undefined) return () => undefined;
  const seen = new Set<string>();
  return (message) => {
    if (seen.has(message) || seen.size > 100) return;
    seen.add(message);
    log.error(message);
  };
}

export function createNativeEngine(addon: NativeAddon, defaultLog?: EngineLog): Engine {
  return {
    kind: 'native',
    load(payload: string | Uint8Array, log: EngineLog | undefined = defaultLog): FlagSnapshot {
      const warn = onceEach(log);
      const bytes = ownBytes(payload);
      let handle: NativeSnapshotHandle;
      try {
        handle = new addon.Snapshot(bytes);
      } catch (err) {
        throw payloadError(err);
      }
      return new NativeFlagSnapshot(bytes, handle, warn);
    },
    async loadAsync(payload: string | Uint8Array, log: EngineLog | undefined = defaultLog): Promise<FlagSnapshot> {
      const warn = onceEach(log);
      const bytes = ownBytes(payload);
      const handle = await addon.parseSnapshot(bytes).catch((err: unknown) => {
        throw payloadError(err);
      });
      return new NativeFlagSnapshot(bytes, handle, warn);
    },
  };
}
