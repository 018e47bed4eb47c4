/**
 * The pure-JS engine: the fallback when no native binary loads (unsupported
 * platform, failed source build, AMPLITUDE_EXPERIMENT_ENGINE=js).
 *
 * Evaluation is `@amplitude/experiment-core` (the engine the official Node SDK
 * uses, same pinned version), so answers are the official ones by
 * construction. Around it this module gives the same observable contract as the
 * native engine (see types.ts):
 *   - a flag that would make the official engine throw is left out when the
 *     snapshot is built, with a reason (missing or invalid segments, variants,
 *     conditions or bucket, non-string condition values, invalid regex,
 *     dependency cycles); the other flags work;
 *   - dependency order is computed once per snapshot, each flag's dependency
 *     closure once per snapshot on first use; `evaluate(user, flagKeys)` returns the requested flags plus the
 *     flags they depend on, absent/empty flagKeys = all flags;
 *   - `evaluate` never throws.
 * Results are converted like the official SDK (`evaluationVariantToVariant`,
 * `convertUserToEvaluationContext`).
 *
 * What it cannot fix: the official engine's semver pattern backtracks
 * catastrophically on some hostile version strings (test/bad-inputs.test.ts),
 * and so does this engine. The native engine parses versions in linear time.
 */
import type * as ExperimentCore from '@amplitude/experiment-core';
import { lazy } from '../util/lazy';
import { errorMessage } from '../util/error-message';
import { unreadableUserMessage } from './user-json';

// Loaded when a JS engine is made (a fallback, or AMPLITUDE_EXPERIMENT_ENGINE=js), not at require time.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const core = lazy(() => require('@amplitude/experiment-core') as typeof ExperimentCore);
import type { EvaluationFlag as CoreFlag, EvaluationVariant as CoreVariant } from '@amplitude/experiment-core';
import type { ExperimentUser, Variant, Variants } from '../types';
import { evaluationVariantToVariant } from '../util/variant';
import { FlagPayloadError } from './types';
import type { Engine, EngineLog, FlagSnapshot, RejectedFlag } from './types';

const REGEX_OPS = new Set(['regex match', 'regex does not match']);

type Json = Record<string, unknown>;

function isObject(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (v === undefined) return 'undefined';
  if (Array.isArray(v)) return 'an array';
  return typeof v === 'object' ? 'an object' : `a ${typeof v}`;
}

const isAbsent = (v: unknown): boolean => v === undefined || v === null;

/**
 * Why `flag` is left out, or undefined when it is usable: what would break the
 * official engine, and the malformed shapes the native engine refuses
 * (native/core/snapshot.cc), so both engines serve the same flags.
 */
function validateFlag(flag: Json): string | undefined {
  const { variants, segments, dependencies, metadata } = flag;
  if (!isAbsent(metadata) && !isObject(metadata)) return `flag metadata must be an object, got ${describe(metadata)}`;
  if (variants === undefined) return 'missing variants';
  if (!isObject(variants)) return `variants must be an object, got ${describe(variants)}`;
  for (const [key, variant] of Object.entries(variants)) {
    if (!isObject(variant)) return `variant "${key}" must be an object, got ${describe(variant)}`;
    if (!isAbsent(variant.metadata) && !isObject(variant.metadata)) return `variant "${key}" metadata must be an object`;
  }
  if (segments === undefined) return 'missing segments';
  if (!Array.isArray(segments)) return `segments must be an array, got ${describe(segments)}`;
  for (let s = 0; s < segments.length; s++) {
    const reason = validateSegment(segments[s]);
    if (reason) return `segments[${s}]: ${reason}`;
  }
  if (dependencies !== undefined && dependencies !== null) {
    if (!Array.isArray(dependencies)) return `dependencies must be an array, got ${describe(dependencies)}`;
    for (const d of dependencies) {
      if (typeof d !== 'string') return `dependencies must be strings, got ${describe(d)}`;
    }
  }
  return undefined;
}

/** A selector the native engine compiles: an array of strings. */
function validateSelector(selector: unknown): string | undefined {
  if (!Array.isArray(selector)) return `selector must be an array, got ${describe(selector)}`;
  for (const e of selector) if (typeof e !== 'string') return `selector must hold strings, got ${describe(e)}`;
  return undefined;
}

/** A range the native engine compiles: an array whose first two elements (if present) are numbers. */
function validateRange(range: unknown): string | undefined {
  if (!Array.isArray(range)) return 'range must be an array';
  for (let i = 0; i < Math.min(2, range.length); i++) if (typeof range[i] !== 'number') return 'range must hold numbers';
  return undefined;
}

function validateSegment(segment: unknown): string | undefined {
  if (!isObject(segment)) return `must be an object, got ${describe(segment)}`;
  const { conditions, bucket, metadata, variant } = segment;
  if (!isAbsent(metadata) && !isObject(metadata)) return `metadata must be an object, got ${describe(metadata)}`;
  if (!isAbsent(variant) && typeof variant !== 'string') return `variant must be a string, got ${describe(variant)}`;
  if (conditions !== undefined && conditions !== null) {
    if (!Array.isArray(conditions)) return `conditions must be an array, got ${describe(conditions)}`;
    for (let i = 0; i < conditions.length; i++) {
      // eslint-disable-next-line @typescript-eslint/no-unsafe-assignment -- new Array(n).fill(undefined) is typed any[]
      const and = conditions[i];
      if (!Array.isArray(and)) return `conditions[${i}] must be an array, got ${describe(and)}`;
      for (let j = 0; j < and.length; j++) {
        const reason = validateCondition(and[j]);
        if (reason) return `conditions[${i}][${j}]: ${reason}`;
      }
    }
  }
  if (bucket !== undefined && bucket !== null) {
    if (!isObject(bucket)) return `bucket must be an object, got ${describe(bucket)}`;
    const selectorProblem = validateSelector(bucket.selector);
    if (selectorProblem) return `bucket.${selectorProblem}`;
    if (typeof bucket.salt !== 'string') return `bucket.salt must be a string, got ${describe(bucket.salt)}`;
    const { allocations } = bucket;
    if (!Array.isArray(allocations)) return `bucket.allocations must be an array, got ${describe(allocations)}`;
    for (let a = 0; a < allocations.length; a++) {
      // eslint-disable-next-line @typescript-eslint/no-unsafe-assignment -- new Array(n).fill(undefined) is typed any[]
      const allocation = allocations[a];
      if (!isObject(allocation)) return `bucket.allocations[${a}] must be an object, got ${describe(allocation)}`;
      const rangeProblem = validateRange(allocation.range);
      if (rangeProblem) return `bucket.allocations[${a}].${rangeProblem}`;
      const { distributions } = allocation;
      if (!Array.isArray(distributions)) return `bucket.allocations[${a}].distributions must be an array`;
      for (let d = 0; d < distributions.length; d++) {
        // eslint-disable-next-line @typescript-eslint/no-unsafe-assignment -- new Array(n).fill(undefined) is typed any[]
        const dist = distributions[d];
        if (!isObject(dist) || typeof dist.variant !== 'string' || validateRange(dist.range)) {
          return `bucket.allocations[${a}].distributions[${d}] must be an object with a string variant and a range of numbers`;
        }
      }
    }
  }
  return undefined;
}

function validateCondition(condition: unknown): string | undefined {
  if (!isObject(condition)) return `must be an object, got ${describe(condition)}`;
  const { selector, op, values } = condition;
  const selectorProblem = validateSelector(selector);
  if (selectorProblem) return selectorProblem;
  if (typeof op !== 'string') return `op must be a string, got ${describe(op)}`;
  if (!Array.isArray(values)) return `values must be an array, got ${describe(values)}`;
  for (const v of values) {
    if (typeof v !== 'string') return `condition values must be strings, got ${describe(v)}`;
  }
  if (REGEX_OPS.has(op)) {
    for (const v of values) {
      try {
        new RegExp(v as string);
      } catch (err) {
        return `invalid regex ${JSON.stringify(v)}: ${(err as Error).message}`;
      }
    }
  }
  return undefined;
}

/**
 * Flags on a dependency cycle (only dependencies present in `flags` count),
 * each with the cycle it is on. Iterative Tarjan SCC: no recursion, so a deep
 * dependency chain cannot overflow the stack.
 */
function findCycles(flags: Map<string, string[]>): Map<string, string[]> {
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const onStack = new Set<string>();
  const stack: string[] = [];
  const out = new Map<string, string[]>();
  let next = 0;
  for (const root of flags.keys()) {
    if (index.has(root)) continue;
    const work: Array<{ key: string; i: number }> = [{ key: root, i: 0 }];
    index.set(root, next);
    low.set(root, next++);
    stack.push(root);
    onStack.add(root);
    while (work.length > 0) {
      const frame = work[work.length - 1];
      const deps = flags.get(frame.key)!;
      if (frame.i < deps.length) {
        const dep = deps[frame.i++];
        if (!flags.has(dep)) continue;
        if (!index.has(dep)) {
          index.set(dep, next);
          low.set(dep, next++);
          stack.push(dep);
          onStack.add(dep);
          work.push({ key: dep, i: 0 });
        } else if (onStack.has(dep)) {
          low.set(frame.key, Math.min(low.get(frame.key)!, index.get(dep)!));
        }
        continue;
      }
      work.pop();
      if (work.length > 0) {
        const parent = work[work.length - 1].key;
        low.set(parent, Math.min(low.get(parent)!, low.get(frame.key)!));
      }
      if (low.get(frame.key) === index.get(frame.key)) {
        const component: string[] = [];
        let member: string;
        do {
          member = stack.pop()!;
          onStack.delete(member);
          component.push(member);
        } while (member !== frame.key);
        const selfLoop = component.length === 1 && flags.get(frame.key)!.includes(frame.key);
        if (component.length > 1 || selfLoop) {
          component.reverse();
          for (const k of component) out.set(k, component);
        }
      }
    }
  }
  return out;
}

/**
 * The official order: topologicalSort over the record (Object.keys order, DFS
 * post-order over dependencies). Cycles were removed beforehand, so it cannot
 * throw for them; if it throws anyway (stack overflow on an extremely deep
 * chain), the same traversal done iteratively gives the same order.
 */
function dependencyOrder(record: Record<string, CoreFlag>): CoreFlag[] {
  try {
    return core().topologicalSort(record);
  } catch {
    return iterativeOrder(record, Object.keys(record));
  }
}

/** topologicalSort's traversal without recursion (same output on acyclic input). */
function iterativeOrder(record: Record<string, CoreFlag>, startKeys: readonly string[]): CoreFlag[] {
  const done = new Set<string>();
  const result: CoreFlag[] = [];
  for (const start of startKeys) {
    if (!Object.prototype.hasOwnProperty.call(record, start) || done.has(start)) continue;
    const work: Array<{ flag: CoreFlag; i: number }> = [{ flag: record[start], i: 0 }];
    const entered = new Set<string>([start]);
    while (work.length > 0) {
      const frame = work[work.length - 1];
      const deps = frame.flag.dependencies ?? [];
      if (frame.i < deps.length) {
        const dep = deps[frame.i++];
        if (Object.prototype.hasOwnProperty.call(record, dep) && !done.has(dep) && !entered.has(dep)) {
          entered.add(dep);
          work.push({ flag: record[dep], i: 0 });
        }
        continue;
      }
      work.pop();
      done.add(frame.flag.key);
      result.push(frame.flag);
    }
  }
  return result;
}

/** `convertUserToEvaluationContext` of @amplitude/experiment-node-server 1.13.6. */
export function userToContext(user: ExperimentUser | undefined): Record<string, unknown> {
  if (!user) return {};
  const { groups, group_properties: groupProperties, group_cohort_ids: groupCohortIds } = user;
  const context: Record<string, unknown> = {};
  const copy: Record<string, unknown> = { ...user };
  delete copy.groups;
  delete copy.group_properties;
  delete copy.group_cohort_ids;
  if (Object.keys(copy).length > 0) context.user = copy;
  if (!groups) return context;
  const contextGroups: Record<string, unknown> = {};
  for (const groupType of Object.keys(groups)) {
    const names = groups[groupType];
    if (names && names.length > 0 && names[0]) {
      const groupName = names[0];
      const entry: Record<string, unknown> = { group_name: groupName };
      const props = groupProperties?.[groupType]?.[groupName];
      if (props && Object.keys(props).length > 0) entry.group_properties = props;
      const cohorts = groupCohortIds?.[groupType]?.[groupName];
      if (cohorts && Object.keys(cohorts).length > 0) entry.cohort_ids = cohorts;
      contextGroups[groupType] = entry;
    }
  }
  if (Object.keys(contextGroups).length > 0) context.groups = contextGroups;
  return context;
}

/** `evaluationVariantToVariant` of the official SDK: `value` always an own property, a string or undefined. */
function toVariant(ev: CoreVariant): Variant {
  return evaluationVariantToVariant(ev);
}

class JsSnapshot implements FlagSnapshot {
  readonly size: number;
  readonly rejected: readonly RejectedFlag[];
  private readonly order: CoreFlag[];
  private readonly position: Map<string, number>;
  private readonly closures = new Map<string, readonly number[]>();
  private readonly engine = new (core().EvaluationEngine)();

  /** Each distinct warning once per snapshot. */
  private readonly warned = new Set<string>();

  constructor(
    order: CoreFlag[],
    rejected: RejectedFlag[],
    private readonly log: EngineLog | undefined,
  ) {
    this.order = order;
    this.size = order.length;
    this.rejected = Object.freeze(rejected.map((r) => Object.freeze({ ...r })));
    this.position = new Map(order.map((f, i) => [f.key, i]));
  }

  /**
   * A flag's dependency closure as ascending positions in `order`, computed on
   * first use and kept for the snapshot's lifetime (iterative: a deep chain
   * cannot overflow the stack; lazy: a long chain costs nothing until asked).
   */
  private closure(flagKey: string): readonly number[] | undefined {
    const cached = this.closures.get(flagKey);
    if (cached) return cached;
    const start = this.position.get(flagKey);
    if (start === undefined) return undefined;
    const seen = new Set<number>([start]);
    const todo = [start];
    while (todo.length > 0) {
      for (const dep of this.order[todo.pop()!].dependencies ?? []) {
        const p = this.position.get(dep);
        if (p !== undefined && !seen.has(p)) {
          seen.add(p);
          todo.push(p);
        }
      }
    }
    const result = Object.freeze([...seen].sort((a, b) => a - b));
    this.closures.set(flagKey, result);
    return result;
  }

  keys(): string[] {
    return this.order.map((f) => f.key);
  }

  has(flagKey: string): boolean {
    return this.position.has(flagKey);
  }

  flag(flagKey: string): Record<string, unknown> | undefined {
    const p = this.position.get(flagKey);
    return p === undefined ? undefined : structuredClone(this.order[p]);
  }

  evaluate(user: ExperimentUser | undefined, flagKeys?: readonly string[]): Variants {
    try {
      const flags = this.select(flagKeys);
      if (flags.length === 0) return {};
      let context: Record<string, unknown>;
      try {
        context = userToContext(user);
      } catch (err) {
        // As the native engine: a user that cannot be read is evaluated as if it had no properties.
        this.warn(unreadableUserMessage(err));
        context = {};
      }
      let results: Record<string, CoreVariant>;
      try {
        results = this.engine.evaluate(context, flags);
      } catch {
        // Something in the user (e.g. a BigInt inside an array property, a
        // throwing getter) broke one flag; evaluate flag by flag so the others
        // still get their answer.
        results = this.evaluateEach(context, flags);
      }
      const variants: Record<string, Variant> = {};
      for (const key of Object.keys(results)) variants[key] = toVariant(results[key]);
      return variants;
    } catch (err) {
      this.warn(`a user object cannot be read (${errorMessage(err)}); it gets no variants`);
      return {};
    }
  }

  private warn(message: string): void {
    if (this.log === undefined || this.warned.has(message) || this.warned.size > 100) return;
    this.warned.add(message);
    this.log.error(message);
  }

  private select(flagKeys?: readonly string[]): CoreFlag[] {
    if (!flagKeys || flagKeys.length === 0) return this.order;
    // The reference topologicalSort(flags, flagKeys): DFS post-order from each
    // requested key in turn, each flag once (iterative; no cycles remain).
    const emitted = new Set<number>();
    const out: CoreFlag[] = [];
    for (const key of flagKeys) {
      const start = typeof key === 'string' ? this.position.get(key) : undefined;
      if (start === undefined || emitted.has(start)) continue;
      const onPath = new Set<number>([start]);
      const stack: Array<[number, number]> = [[start, 0]];
      while (stack.length > 0) {
        const top = stack[stack.length - 1];
        const deps = this.order[top[0]].dependencies ?? [];
        if (top[1] < deps.length) {
          const p = this.position.get(deps[top[1]++]);
          if (p !== undefined && !emitted.has(p) && !onPath.has(p)) {
            onPath.add(p);
            stack.push([p, 0]);
          }
          continue;
        }
        stack.pop();
        emitted.add(top[0]);
        out.push(this.order[top[0]]);
      }
    }
    return out;
  }

  private evaluateEach(context: Record<string, unknown>, flags: CoreFlag[]): Record<string, CoreVariant> {
    const results: Record<string, CoreVariant> = {};
    for (const flag of flags) {
      try {
        const closure = this.closure(flag.key)!.map((p) => this.order[p]);
        const r = this.engine.evaluate(context, closure)[flag.key];
        if (r !== undefined) results[flag.key] = r;
      } catch {
        // this flag has no answer for this user
      }
    }
    return results;
  }
}

function decode(payload: string | Uint8Array): string {
  if (typeof payload === 'string') return payload;
  if (payload instanceof Uint8Array) return new TextDecoder('utf-8').decode(payload);
  throw new FlagPayloadError(`flag payload must be a string or bytes, got ${describe(payload)}`);
}

/** Build a snapshot from a v2 flag-config payload (a JSON array of flags). */
export function loadJsSnapshot(payload: string | Uint8Array, log?: EngineLog): FlagSnapshot {
  let parsed: unknown;
  try {
    parsed = JSON.parse(decode(payload));
  } catch (err) {
    if (err instanceof FlagPayloadError) throw err;
    throw new FlagPayloadError(`flag payload is not valid JSON: ${(err as Error).message}`);
  }
  if (!Array.isArray(parsed)) {
    throw new FlagPayloadError(`flag payload must be a JSON array of flags, got ${describe(parsed)}`);
  }

  const rejected: RejectedFlag[] = [];
  // Keyed like the official SdkFlagApi: a repeated key keeps its first position and its last config.
  const record: Record<string, CoreFlag> = {};
  const reasons = new Map<string, string>();
  const firstIndex = new Map<string, number>();
  const indexOf = (r: RejectedFlag): number => firstIndex.get(r.flagKey) ?? Number(r.flagKey.slice(1));
  parsed.forEach((flag: unknown, i: number) => {
    if (!isObject(flag)) {
      rejected.push({ flagKey: `#${i}`, reason: `flag at index ${i} must be an object, got ${describe(flag)}` });
      return;
    }
    if (typeof flag.key !== 'string' || flag.key === '') {
      rejected.push({ flagKey: `#${i}`, reason: `flag at index ${i} has no string key` });
      return;
    }
    if (!firstIndex.has(flag.key)) firstIndex.set(flag.key, i);
    const reason = validateFlag(flag);
    if (reason) reasons.set(flag.key, reason);
    else reasons.delete(flag.key);
    record[flag.key] = flag as unknown as CoreFlag;
  });
  for (const [key, reason] of reasons) {
    delete record[key];
    rejected.push({ flagKey: key, reason });
  }

  const deps = new Map<string, string[]>();
  for (const key of Object.keys(record)) deps.set(key, record[key].dependencies ?? []);
  for (const [key, cycle] of findCycles(deps)) {
    delete record[key];
    rejected.push({ flagKey: key, reason: `dependency cycle: ${[...cycle, cycle[0]].join(' -> ')}` });
  }

  rejected.sort((a, b) => indexOf(a) - indexOf(b)); // payload order, like the native engine
  return new JsSnapshot(dependencyOrder(record), rejected, log);
}

/** The pure-JS engine (kind "js"). */
export function createJsEngine(): Engine {
  return Object.freeze({
    kind: 'js' as const,
    load: loadJsSnapshot,
  });
}
