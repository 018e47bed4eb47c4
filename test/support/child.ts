/** A Node script run as a user's process would be (node -e), for tests of process lifetime and environment. */
import { spawn } from 'node:child_process';

export interface ChildResult {
  /** Exit code (null when killed). */
  code: number | null;
  /** stdout and stderr, interleaved as they arrived. */
  out: string;
  /** True when the script was still running at the deadline and was killed. */
  killed: boolean;
}

/** Run `script` with `node -e`; SIGKILL it after timeoutMillis (a process that should have exited by itself). */
export function runNodeScript(
  script: string,
  options: { timeoutMillis: number; env?: NodeJS.ProcessEnv; cwd?: string },
): Promise<ChildResult> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['-e', script], { cwd: options.cwd, env: options.env ?? process.env });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    let killed = false;
    const timer = setTimeout(() => {
      killed = true;
      child.kill('SIGKILL');
    }, options.timeoutMillis);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, out, killed });
    });
  });
}
