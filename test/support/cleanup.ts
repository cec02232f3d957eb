/**
 * Cleanup plumbing shared by the test world: temp dirs and child processes that must not outlive
 * the test that made them, even when that test throws half-way.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ChildProcess } from 'node:child_process';

/**
 * Anything with node:test's `after(fn)`: a TestContext (`t`), or `{ after }` imported from
 * node:test inside a describe body (suite-level hook). Typed structurally so support code does not
 * care which one it was handed.
 */
export interface Hookable {
  after(fn: () => unknown): void;
}

// Safety net: a test file that crashes (or a runner that is interrupted) skips its after-hooks.
// Registries left running would hold ports and CPU for the rest of the suite, so every child and
// temp dir is also tracked here and reaped synchronously when the process exits.
const liveChildren = new Set<ChildProcess>();
const liveDirs = new Set<string>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.once('exit', reapSync);
  // 'exit' does not run when a signal ends the process (the runner cancelling a file, Ctrl-C):
  // reap, then re-raise the signal so the process still dies of it with the usual status.
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.once(signal, () => {
      reapSync();
      process.kill(process.pid, signal);
    });
  }
}

function reapSync(): void {
  for (const child of liveChildren) {
    try {
      child.kill('SIGKILL');
    } catch {
      // already gone
    }
  }
  for (const dir of liveDirs) {
    try {
      rmSync(dir, { recursive: true, force: true });
    } catch {
      // best effort at exit
    }
  }
}

/** Registers a child so it is SIGKILLed at process exit if nobody stopped it before. */
export function trackChild(child: ChildProcess): void {
  installExitHook();
  liveChildren.add(child);
  child.once('exit', () => liveChildren.delete(child));
}

/** Creates a temp dir that is removed at process exit unless `removeDir` ran first. */
export function makeTrackedDir(prefix: string): string {
  installExitHook();
  const dir = mkdtempSync(join(tmpdir(), `ocm-${prefix}-`));
  liveDirs.add(dir);
  return dir;
}

export async function removeDir(dir: string): Promise<void> {
  liveDirs.delete(dir);
  await rm(dir, { recursive: true, force: true, maxRetries: 3 });
}

/**
 * A fresh temp dir removed after the test (or suite) `t` belongs to.
 * Usage: `const dir = tempDir(t)` in a test, `tempDir({ after })` in a describe body.
 */
export function tempDir(t: Hookable, prefix = 'test'): string {
  const dir = makeTrackedDir(prefix);
  t.after(() => removeDir(dir));
  return dir;
}

/**
 * Stops a child process: SIGTERM, then SIGKILL if it has not exited within `graceMs`.
 * Resolves once it has exited, so the port is free and files are closed when this returns.
 */
export async function stopChild(child: ChildProcess, graceMs = 2000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
  try {
    await exited;
  } finally {
    clearTimeout(timer);
  }
}
