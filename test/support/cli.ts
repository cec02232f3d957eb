/**
 * Runs the built CLI (`dist/cli.js`) as a user would: a separate node process with arguments,
 * environment and working directory, capturing exit code and output.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

import { trackChild } from './cleanup.js';

export { tempDir, type Hookable } from './cleanup.js';

/** The repository root: this file is test/support/cli.ts. */
export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const CLI_PATH = resolve(REPO_ROOT, 'dist', 'cli.js');
const SOURCE_CLI_PATH = resolve(REPO_ROOT, 'src', 'cli', 'main.ts');
/** by URL: the child runs in another directory, where a bare `tsx` would not resolve */
const TSX_LOADER = import.meta.resolve('tsx');

export interface CliResult {
  /** exit code; null only when killed by a signal (see `signal`) */
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** true when the timeout killed it */
  timedOut: boolean;
}

export interface CliOptions {
  /** merged over process.env; a value of undefined removes the variable */
  env?: Record<string, string | undefined>;
  /** default: the system temp dir (pass `tempDir(t)` when the CLI writes relative paths) */
  cwd?: string;
  /** written to stdin, which is then closed (stdin is empty otherwise, as in CI) */
  input?: string | Buffer;
  /** default 300 s; the process is SIGKILLed after it */
  timeoutMs?: number;
  /** node flags before the script (e.g. `['--import', 'tsx']`) */
  nodeArgs?: string[];
}

/**
 * Spawns `node dist/cli.js ...args`. Never throws for a non-zero exit: tests assert on `code`.
 * Throws when dist/cli.js is missing, naming the build command.
 */
export function runCli(args: string[], opts: CliOptions = {}): Promise<CliResult> {
  // While developing, OC_MIRROR_CLI_FROM_SOURCE=1 runs the sources through tsx instead of dist/.
  if (process.env.OC_MIRROR_CLI_FROM_SOURCE === '1') {
    return runNodeScript(SOURCE_CLI_PATH, args, { ...opts, nodeArgs: ['--import', TSX_LOADER, ...(opts.nodeArgs ?? [])] });
  }
  if (!existsSync(CLI_PATH)) {
    return Promise.reject(new Error(`${CLI_PATH} not found: run \`npm run build\` before the integration tests`));
  }
  return runNodeScript(CLI_PATH, args, opts);
}

/** `node <script> ...args` with runCli's environment, stdin and timeout handling. */
export function runNodeScript(script: string, args: string[], opts: CliOptions = {}): Promise<CliResult> {
  const env: NodeJS.ProcessEnv = { ...process.env };
  // the test runner's own variables would make a nested node process behave as a test file
  delete env.NODE_TEST_CONTEXT;
  for (const [k, v] of Object.entries(opts.env ?? {})) {
    if (v === undefined) delete env[k];
    else env[k] = v;
  }
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, [...(opts.nodeArgs ?? []), script, ...args], {
      // not the repository: a CLI writing relative paths must not litter the work tree
      cwd: opts.cwd ?? tmpdir(),
      env,
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    trackChild(child); // killed at exit if a crashing test leaves it behind
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => err.push(b));
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, opts.timeoutMs ?? 300_000);
    child.once('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      resolvePromise({
        code,
        signal,
        stdout: Buffer.concat(out).toString('utf8'),
        stderr: Buffer.concat(err).toString('utf8'),
        timedOut,
      });
    });
    child.stdin.on('error', () => {
      // the CLI may exit without reading stdin (EPIPE): not an error of the test
    });
    child.stdin.end(opts.input ?? '');
  });
}
