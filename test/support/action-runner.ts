/**
 * Runs an action's entry the way the runner does: a separate node process, inputs as `INPUT_<NAME>`
 * variables (upper-cased, hyphens kept: `INPUT_PARALLEL-IMAGES`), outputs and the job summary
 * through the `GITHUB_OUTPUT` and `GITHUB_STEP_SUMMARY` files, the working directory at
 * `GITHUB_WORKSPACE`. It runs dist/<action>/index.js, or with OC_MIRROR_CLI_FROM_SOURCE=1 the
 * sources through tsx (as test/support/cli.ts does for the CLI).
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { trackChild } from './cleanup.js';
import { REPO_ROOT } from './cli.js';

const TSX_LOADER = import.meta.resolve('tsx');
const SOURCE_MAIN = resolve(REPO_ROOT, 'src', 'action', 'main.ts');

/** An action directory of the bundle, or `root` for the root action.yml (which takes `command`). */
export type ActionEntry = 'plan' | 'mirror' | 'pack' | 'push' | 'delete' | 'root';

export interface ActionRun {
  code: number | null;
  stdout: string;
  stderr: string;
  /** what the step wrote to GITHUB_OUTPUT */
  outputs: Record<string, string>;
  /** what it wrote to GITHUB_STEP_SUMMARY */
  summary: string;
  /** `::error::` and `::warning::` messages, unescaped */
  errors: string[];
  warnings: string[];
}

export interface ActionRunOptions {
  /** the step's environment beyond inputs (e.g. the Actions services' runEnv()); GITHUB_WORKSPACE is the cwd */
  env?: Record<string, string>;
  timeoutMs?: number;
}

/** Variables of the calling environment that must not leak into a step (a runner's own, user auth). */
const SCRUBBED = /^(INPUT_|GITHUB_|ACTIONS_|RUNNER_|NODE_TEST_CONTEXT$|REGISTRY_AUTH_FILE$|DOCKER_CONFIG$|XDG_RUNTIME_DIR$|HTTPS?_PROXY$|https?_proxy$)/;

export function inputVariable(name: string): string {
  return `INPUT_${name.replace(/ /g, '_').toUpperCase()}`;
}

export async function runActionEntry(action: ActionEntry, inputs: Record<string, string>, opts: ActionRunOptions = {}): Promise<ActionRun> {
  const files = mkdtempSync(join(tmpdir(), 'action-step-'));
  const outputFile = join(files, 'output');
  const summaryFile = join(files, 'summary');
  writeFileSync(outputFile, '');
  writeFileSync(summaryFile, '');
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!SCRUBBED.test(k)) env[k] = v;
  Object.assign(env, { CI: 'true', HOME: join(files, 'home'), RUNNER_TEMP: join(files, 'temp') }, opts.env, {
    GITHUB_OUTPUT: outputFile,
    GITHUB_STEP_SUMMARY: summaryFile,
  });
  for (const dir of [env.HOME!, env.RUNNER_TEMP!]) mkdirSync(dir, { recursive: true });
  for (const [name, value] of Object.entries(inputs)) env[inputVariable(name)] = value;
  const cwd = env.GITHUB_WORKSPACE ?? files;

  const name = action === 'root' ? '' : `'${action}'`;
  let args: string[];
  if (process.env.OC_MIRROR_CLI_FROM_SOURCE === '1') {
    const script = `import { runAction } from ${JSON.stringify(pathToFileURL(SOURCE_MAIN).href)};\nawait runAction(${name});\n`;
    args = ['--import', TSX_LOADER, '--input-type=module', '-e', script];
  } else {
    const entry = resolve(REPO_ROOT, 'dist', action === 'root' ? 'index.js' : join(action, 'index.js'));
    if (!existsSync(entry)) throw new Error(`${entry} not found: run \`npm run build\` before the integration tests`);
    args = [entry];
  }
  try {
    const { code, stdout, stderr } = await spawnNode(args, env, cwd, opts.timeoutMs ?? 120_000);
    const commands = (kind: string): string[] =>
      stdout
        .split('\n')
        .filter((l) => l.startsWith(`::${kind}`))
        .map((l) => l.replace(/^::[a-z]+(?: [^:]*)?::/, '').replace(/%0D/g, '\r').replace(/%0A/g, '\n').replace(/%25/g, '%'));
    return {
      code,
      stdout,
      stderr,
      outputs: parseOutputFile(readFileSync(outputFile, 'utf8')),
      summary: readFileSync(summaryFile, 'utf8'),
      errors: commands('error'),
      warnings: commands('warning'),
    };
  } finally {
    rmSync(files, { recursive: true, force: true });
  }
}

/** The runner's reading of GITHUB_OUTPUT: `name<<delimiter` heredocs and `name=value` lines. */
export function parseOutputFile(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    if (!line) continue;
    const heredoc = /^([^=<]+)<<(.+)$/.exec(line);
    if (heredoc) {
      const end = lines.indexOf(heredoc[2]!, i + 1);
      if (end < 0) throw new Error(`GITHUB_OUTPUT: no closing delimiter for ${heredoc[1]}`);
      out[heredoc[1]!] = lines.slice(i + 1, end).join('\n');
      i = end;
      continue;
    }
    const eq = line.indexOf('=');
    if (eq < 0) throw new Error(`GITHUB_OUTPUT: malformed line ${JSON.stringify(line)}`);
    out[line.slice(0, eq)] = line.slice(eq + 1);
  }
  return out;
}

function spawnNode(args: string[], env: NodeJS.ProcessEnv, cwd: string, timeoutMs: number): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    trackChild(child);
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => err.push(b));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.once('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.once('close', (code) => {
      clearTimeout(timer);
      resolvePromise({ code, stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8') });
    });
  });
}
