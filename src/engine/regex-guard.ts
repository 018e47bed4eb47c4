/**
 * Regex conditions with a bound on time: a flag config comes from outside the
 * process, and one pattern that backtracks catastrophically (`^(a+)+$`
 * against 25 `a`s and a `!` takes V8's backtracking engine ~0.6 s, doubling
 * with each `a`) must not block the event loop.
 *
 * Each pattern is looked at once, when a snapshot is built:
 *   - no quantifier on a group that itself repeats or alternates (the cause
 *     of exponential backtracking): V8's usual engine, which is fast, while
 *     the subject is short enough that the polynomial worst case of the
 *     pattern's unbounded quantifiers stays far below the bound; longer
 *     subjects go to the linear-time engine;
 *   - otherwise V8's linear-time engine (the `l` flag) always;
 *   - a pattern the linear engine cannot run (backreferences, lookarounds)
 *     where it would be needed runs in a vm context with a 50 ms timeout.
 * Whatever finishes gives the ECMAScript answer (the linear engine implements
 * the same language; a test only asks whether a match exists). At the bound
 * the answer is unknown: the condition holds neither for `regex match` nor for
 * `regex does not match`, and the host is told once (`onBound`).
 */
import type * as Vm from 'node:vm';
// Loaded when a pattern first needs the linear engine or the budget, not at require time.
import { v8, vm } from '../util/builtins';

/** What one test gives: no match, a match, or the bound was reached first. */
export const RegexOutcome = { NoMatch: 0, Match: 1, GaveUp: 2 } as const;
export type RegexOutcome = (typeof RegexOutcome)[keyof typeof RegexOutcome];

/** The longest a single regex test may run on the budgeted path. */
export const REGEX_BUDGET_MS = 50;

/** Roughly 10^7 backtracking steps: a few milliseconds. */
const STEP_BUDGET = 1e7;

export interface PatternShape {
  /** A quantifier applies to a group that contains a quantifier or an alternation. */
  nestedRepetition: boolean;
  /** Unbounded quantifiers (`*`, `+`, `{n,}`). */
  unbounded: number;
  /** Backreferences or lookarounds: the linear engine refuses these. */
  needsBacktracking: boolean;
}

/** A one-pass look at a pattern's structure (not a validator: V8 compiles it first). */
export function analyzePattern(pattern: string): PatternShape {
  const shape: PatternShape = { nestedRepetition: false, unbounded: 0, needsBacktracking: false };
  // Per open group: does it contain a repetition or an alternation?
  const groups: boolean[] = [];
  // What a quantifier right here would apply to: a group that repeats inside, or a plain atom.
  let lastAtomRepeats = false;
  let hasAtom = false;
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i];
    if (c === '\\') {
      const next = pattern[i + 1] ?? '';
      if ((next >= '1' && next <= '9') || next === 'k') shape.needsBacktracking = true;
      i++;
      lastAtomRepeats = false;
      hasAtom = true;
      continue;
    }
    if (c === '[') {
      // Skip the class (in ECMAScript the first `]` ends it, even right after `[`).
      i++;
      while (i < pattern.length && pattern[i] !== ']') {
        if (pattern[i] === '\\') i++;
        i++;
      }
      lastAtomRepeats = false;
      hasAtom = true;
      continue;
    }
    if (c === '(') {
      if (
        pattern.startsWith('(?=', i) ||
        pattern.startsWith('(?!', i) ||
        pattern.startsWith('(?<=', i) ||
        pattern.startsWith('(?<!', i)
      ) {
        shape.needsBacktracking = true;
      }
      groups.push(false);
      hasAtom = false;
      continue;
    }
    if (c === ')') {
      const repeats = groups.pop() ?? false;
      if (repeats && groups.length > 0) groups[groups.length - 1] = true;
      lastAtomRepeats = repeats;
      hasAtom = true;
      continue;
    }
    if (c === '|') {
      if (groups.length > 0) groups[groups.length - 1] = true;
      hasAtom = false;
      continue;
    }
    let max = 1;
    let end = i;
    if (c === '*' || c === '+') {
      max = Infinity;
    } else if (c === '?') {
      max = 1;
    } else if (c === '{') {
      const m = /^\{(\d+)(,(\d*))?\}/.exec(pattern.slice(i));
      if (m) {
        max = m[2] === undefined ? Number(m[1]) : m[3] === '' ? Infinity : Number(m[3]);
        end = i + m[0].length - 1;
      } else {
        lastAtomRepeats = false;
        hasAtom = true;
        continue;
      }
    } else {
      lastAtomRepeats = false;
      hasAtom = true;
      continue;
    }
    if (!hasAtom) continue;
    i = end;
    if (pattern[i + 1] === '?') i++; // lazy
    if (max > 1) {
      if (lastAtomRepeats) shape.nestedRepetition = true;
      if (max === Infinity) shape.unbounded++;
      if (groups.length > 0) groups[groups.length - 1] = true;
    }
    lastAtomRepeats = false;
  }
  return shape;
}

let linearEngineEnabled: boolean | undefined;

/**
 * V8's linear-time engine behind a flag that only adds the `l` RegExp flag
 * (no other regex changes behaviour); set once, when first needed.
 */
function linearRegExp(pattern: string): RegExp | undefined {
  if (linearEngineEnabled === undefined) {
    try {
      v8().setFlagsFromString('--enable-experimental-regexp-engine');
      // eslint-disable-next-line no-invalid-regexp -- 'l' is V8's linear-engine flag, enabled at run time
      linearEngineEnabled = new RegExp('a', 'l').test('a');
    } catch {
      linearEngineEnabled = false;
    }
  }
  if (!linearEngineEnabled) return undefined;
  try {
    // eslint-disable-next-line no-invalid-regexp -- 'l' is V8's linear-engine flag, enabled at run time
    return new RegExp(pattern, 'l');
  } catch {
    return undefined; // "Cannot be executed in linear time"
  }
}

let budgetContext: Vm.Context | undefined;
let budgetScript: Vm.Script | undefined;

function budgetedTest(regex: RegExp, subject: string): RegexOutcome {
  budgetScript ??= new (vm().Script)('r.exec(s) !== null');
  budgetContext ??= vm().createContext({ r: null, s: '' });
  budgetContext.r = regex;
  budgetContext.s = subject;
  try {
    return budgetScript.runInContext(budgetContext, { timeout: REGEX_BUDGET_MS }) === true
      ? RegexOutcome.Match
      : RegexOutcome.NoMatch;
  } catch {
    return RegexOutcome.GaveUp;
  } finally {
    budgetContext.r = null;
    budgetContext.s = '';
  }
}

/** A compiled regex condition value. Throws V8's SyntaxError for an invalid pattern, like `new RegExp`. */
export class GuardedRegex {
  private readonly fast: RegExp;
  private readonly linear: RegExp | undefined;
  /** Subjects up to this length run on the fast engine (0: never; Infinity: always). */
  private readonly fastUpTo: number;

  constructor(readonly pattern: string) {
    this.fast = new RegExp(pattern);
    const shape = analyzePattern(pattern);
    if (shape.nestedRepetition) {
      this.fastUpTo = 0;
    } else if (shape.unbounded === 0) {
      this.fastUpTo = Infinity;
    } else {
      // Worst case about n^(unbounded + 1) steps for a subject of n characters.
      this.fastUpTo = Math.floor(Math.pow(STEP_BUDGET, 1 / (shape.unbounded + 1)));
    }
    this.linear = this.fastUpTo === Infinity ? undefined : linearRegExp(pattern);
  }

  test(subject: string): RegexOutcome {
    if (subject.length <= this.fastUpTo) return this.fast.exec(subject) !== null ? RegexOutcome.Match : RegexOutcome.NoMatch;
    if (this.linear) return this.linear.exec(subject) !== null ? RegexOutcome.Match : RegexOutcome.NoMatch;
    return budgetedTest(this.fast, subject);
  }
}
