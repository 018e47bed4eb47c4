/**
 * Evaluation hooks: before/after callbacks around evaluateV2 (and
 * evaluateV2Details), for metrics and tracing. A client with no hook never
 * builds a hook context: its evaluateV2 pays one `undefined` check.
 *
 * A hook that throws is caught and logged (once per hook and stage, then at
 * debug level); evaluation always completes and returns its normal result.
 */
import type { ExperimentUser, Variants } from '../types';
import type { EvaluationDetails } from '../engine/details';
import type { Logger } from '../util/logger';
import { catchRejection } from '../util/rejection';
import { errorMessage } from '../util/error-message';

/** What is being evaluated: passed to both stages of every hook. */
export interface EvaluationHookContext {
  /** The client method: 'evaluateV2' or 'evaluateV2Details'. */
  readonly method: 'evaluateV2' | 'evaluateV2Details';
  /** The user as given to the call (not enriched with cohorts). */
  readonly user: ExperimentUser;
  /** The flag keys as given to the call (undefined: all flags). */
  readonly flagKeys: readonly string[] | undefined;
}

/** The outcome, passed to afterEvaluation. */
export interface EvaluationHookResult {
  /** The variants the call returns (frozen, shared: do not change them). */
  readonly variants: Variants;
  /** Wall time of the evaluation itself, in milliseconds (performance.now() resolution). */
  readonly durationMillis: number;
  /** For evaluateV2Details: the details returned (reasons, segments...). Undefined for evaluateV2. */
  readonly details?: EvaluationDetails;
}

/**
 * A hook. Both stages are optional and synchronous (evaluateV2 is). What
 * beforeEvaluation returns is handed to afterEvaluation of the same hook and
 * call as `data` (a span, a start time...).
 */
export interface EvaluationHook<Data = unknown> {
  /** Used in log lines about this hook. */
  readonly name?: string;
  beforeEvaluation?(context: EvaluationHookContext): Data;
  afterEvaluation?(context: EvaluationHookContext, result: EvaluationHookResult, data: Data | undefined): void;
}

/** The hooks of one client, run around each evaluation. */
export class HookRunner {
  private readonly hooks: EvaluationHook[] = [];
  private readonly reported = new Set<string>();

  constructor(private readonly logger: Logger) {}

  get size(): number {
    return this.hooks.length;
  }

  add(hook: EvaluationHook): void {
    if (hook === null || typeof hook !== 'object') {
      this.logger.error('addHook: a hook must be an object with beforeEvaluation and/or afterEvaluation; ignored');
      return;
    }
    this.hooks.push(hook);
  }

  /** Run `evaluate` between the before and after stages of every hook. */
  run<T>(
    context: EvaluationHookContext,
    evaluate: () => T,
    variantsOf: (result: T) => Variants,
    detailsOf?: (result: T) => EvaluationDetails,
  ): T {
    const hooks = this.hooks;
    const data: unknown[] = new Array(hooks.length);
    for (let i = 0; i < hooks.length; i++) {
      const hook = hooks[i];
      // The check is inside the try too: a hook may be a Proxy or have getters, and reading them can throw.
      try {
        if (typeof hook.beforeEvaluation !== 'function') continue;
        data[i] = hook.beforeEvaluation(context);
        catchRejection(data[i], (err) => this.report(hook, i, 'beforeEvaluation', err));
      } catch (err) {
        this.report(hook, i, 'beforeEvaluation', err);
      }
    }
    const started = performance.now();
    const result = evaluate();
    const durationMillis = performance.now() - started;
    const outcome: EvaluationHookResult =
      detailsOf === undefined
        ? { variants: variantsOf(result), durationMillis }
        : { variants: variantsOf(result), durationMillis, details: detailsOf(result) };
    // After-stages run in reverse registration order, as OpenFeature and LaunchDarkly do.
    for (let i = hooks.length - 1; i >= 0; i--) {
      const hook = hooks[i];
      try {
        if (typeof hook.afterEvaluation !== 'function') continue;
        catchRejection(hook.afterEvaluation(context, outcome, data[i]), (err) => this.report(hook, i, 'afterEvaluation', err));
      } catch (err) {
        this.report(hook, i, 'afterEvaluation', err);
      }
    }
    return result;
  }

  private report(hook: EvaluationHook, index: number, stage: string, err: unknown): void {
    let name = `#${index}`;
    try {
      if (typeof hook.name === 'string' && hook.name) name = hook.name;
    } catch {
      // A throwing `name` getter: the hook is named by its position.
    }
    const line = `evaluation hook ${name} threw in ${stage}: ${errorMessage(err)}`;
    const key = `${index}/${stage}`;
    if (this.reported.has(key)) {
      this.logger.debug(line);
    } else {
      this.reported.add(key);
      this.logger.error(`${line} (evaluation continues; further errors from this hook stage are logged at debug level)`);
    }
  }
}
