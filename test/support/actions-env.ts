/**
 * Running toolkit code as if inside a step: its environment, and what it tells the runner.
 *
 * Both clients read process.env when called (not when imported), with one exception worth
 * knowing: @actions/github fixes its REST base URL (GITHUB_API_URL) when first imported, and
 * @actions/artifact imports it — so import @actions/artifact inside withEnv the first time.
 */

/** Sets `env` on process.env for the duration of `fn`, then restores every touched variable. */
export async function withEnv<T>(env: Record<string, string>, fn: () => Promise<T> | T): Promise<T> {
  const saved = new Map<string, string | undefined>();
  for (const [name, value] of Object.entries(env)) {
    saved.set(name, process.env[name]);
    process.env[name] = value;
  }
  try {
    return await fn();
  } finally {
    for (const [name, value] of saved) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
  }
}

/** What @actions/core wrote while a call ran, split by workflow command. */
export interface ActionsLog {
  info: string[];
  debug: string[];
  warning: string[];
  error: string[];
  /** every stdout line, as written */
  lines: string[];
  /** stderr lines (Octokit's request log for failed REST calls goes there via console.error) */
  stderr: string[];
}

/**
 * Runs `fn` and collects the workflow-command lines @actions/core writes to stdout
 * (`::warning::…`, `::debug::…`; plain lines are info). Only string writes are taken: the node
 * test runner's own channel on stdout writes Buffers, which pass through untouched.
 * Set ACTIONS_LOG_ECHO=1 to also see the captured lines.
 */
export async function captureActionsLog<T>(fn: () => Promise<T>): Promise<{ result: T; log: ActionsLog }> {
  const log: ActionsLog = { info: [], debug: [], warning: [], error: [], lines: [], stderr: [] };
  const restoreStdout = intercept(process.stdout, (line) => record(log, line));
  const restoreStderr = intercept(process.stderr, (line) => log.stderr.push(line));
  try {
    const result = await fn();
    return { result, log };
  } finally {
    restoreStdout();
    restoreStderr();
  }
}

/** Diverts string writes on `stream` to `onLine`, line by line; returns the undo. */
function intercept(stream: NodeJS.WriteStream, onLine: (line: string) => void): () => void {
  const original = stream.write;
  const echo = process.env.ACTIONS_LOG_ECHO === '1';
  let pending = '';
  stream.write = function (this: NodeJS.WriteStream, chunk: unknown, ...rest: unknown[]): boolean {
    if (typeof chunk === 'string') {
      pending += chunk;
      const lines = pending.split('\n');
      pending = lines.pop()!;
      for (const line of lines) onLine(line.replace(/\r$/, ''));
      if (!echo) {
        rest.find((r): r is () => void => typeof r === 'function')?.();
        return true;
      }
    }
    return (original as (...args: unknown[]) => boolean).call(this, chunk, ...rest);
  } as typeof stream.write;
  return () => {
    stream.write = original;
    if (pending) onLine(pending);
  };
}

function record(log: ActionsLog, line: string): void {
  log.lines.push(line);
  // ::name key=value,…::message — message data has %25 %0D %0A escaped.
  const command = /^::([a-z-]+)(?: [^:]*)?::(.*)$/.exec(line);
  const unescape = (s: string): string => s.replace(/%0D/g, '\r').replace(/%0A/g, '\n').replace(/%25/g, '%');
  if (!command) return void log.info.push(line);
  const [, name, message] = command;
  if (name === 'warning' || name === 'error' || name === 'debug') log[name].push(unescape(message!));
}
