/** Loggers for tests: one that records every line, one that drops everything. */
import type { LoggerProvider } from '../../src/util/logger';

export interface CapturingLogger extends LoggerProvider {
  lines: Array<{ level: string; message: string }>;
  /** Lines at `level` whose message contains `pattern` (a string) or matches it (a RegExp). */
  count(level: string, pattern: RegExp | string): number;
}

export function capturingLogger(): CapturingLogger {
  const lines: Array<{ level: string; message: string }> = [];
  const push = (level: string) => (message?: unknown) => void lines.push({ level, message: String(message) });
  return {
    lines,
    verbose: push('verbose'),
    debug: push('debug'),
    info: push('info'),
    warn: push('warn'),
    error: push('error'),
    count(level, pattern) {
      return lines.filter(
        (l) => l.level === level && (typeof pattern === 'string' ? l.message.includes(pattern) : pattern.test(l.message)),
      ).length;
    },
  };
}

/** Every method present, so it also fits the official SDK's LoggerProvider in side-by-side tests. */
export const silentLogger = {
  verbose: () => undefined,
  debug: () => undefined,
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
} satisfies LoggerProvider;
