/**
 * Running a measured child process: wall time, peak RSS and CPU time.
 *
 * Peak RSS comes from GNU time (`/usr/bin/time -v`, Debian package `time`): it wait4()s for the
 * command it runs and prints that child's `ru_maxrss`, the kernel's own high-water mark of the
 * process — exact, whatever happens in the last milliseconds. Without it, the fallback samples
 * `VmHWM` (also the kernel's high-water mark) from /proc/<pid>/status every 20 ms; since VmHWM never
 * decreases, only growth in the final < 20 ms before exit could be missed.
 */
import { spawn } from 'node:child_process';
import { cpus } from 'node:os';
import { closeSync, existsSync, openSync, readdirSync, readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { stopChild, trackChild } from '../test/support/cleanup.js';

export const GNU_TIME = '/usr/bin/time';
export const haveGnuTime = existsSync(GNU_TIME);

export interface ProcResult {
  /** wall clock seconds, measured here from spawn to exit */
  wallS: number;
  /** peak resident set size in bytes */
  maxRssBytes: number;
  /** user + system CPU seconds of the process (0 when unknown) */
  cpuS: number;
  rssMethod: 'gnu-time' | 'proc-vmhwm';
  exitCode: number;
}

/** Children running right now, so an interrupted bench can stop them. */
export const running = new Set<ReturnType<typeof spawn>>();

/** Environment for children: no proxies (everything is on 127.0.0.1), no REGISTRY_* overrides. */
export function childEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (/^(https?|no|all)_proxy$/i.test(k) || k.startsWith('REGISTRY_')) continue;
    env[k] = v;
  }
  return { ...env, ...extra };
}

/**
 * Runs `cmd args`, stdout and stderr to `logPath` (both). Resolves with the measurements; a
 * non-zero exit is reported in `exitCode` (the caller decides).
 */
export async function measure(cmd: string, args: string[], logPath: string, timePath: string, env = childEnv()): Promise<ProcResult> {
  const out = openSync(logPath, 'w');
  const argv = haveGnuTime ? [GNU_TIME, ['-v', '-o', timePath, cmd, ...args]] as const : [cmd, args] as const;
  let hwm = 0;
  let sampler: NodeJS.Timeout | undefined;
  const started = performance.now();
  const child = spawn(argv[0], argv[1], { stdio: ['ignore', out, out], env });
  closeSync(out);
  trackChild(child);
  running.add(child);
  if (!haveGnuTime) {
    const sample = () => {
      try {
        const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'));
        if (m) hwm = Math.max(hwm, Number(m[1]) * 1024);
      } catch {
        // exited between samples
      }
    };
    sampler = setInterval(sample, 20);
    child.once('spawn', sample);
  }
  const code = await new Promise<number>((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (c, sig) => resolve(c ?? (sig ? 128 : 1)));
  });
  const wallS = (performance.now() - started) / 1000;
  running.delete(child);
  if (sampler) clearInterval(sampler);
  if (!haveGnuTime) return { wallS, maxRssBytes: hwm, cpuS: 0, rssMethod: 'proc-vmhwm', exitCode: code };
  const t = readFileSync(timePath, 'utf8');
  const num = (re: RegExp) => Number(re.exec(t)?.[1] ?? NaN);
  const rssKb = num(/Maximum resident set size \(kbytes\): (\d+)/);
  const cpuS = num(/User time \(seconds\): ([\d.]+)/) + num(/System time \(seconds\): ([\d.]+)/);
  // GNU time reports "Command exited with non-zero status N" and exits with N itself
  return { wallS, maxRssBytes: rssKb * 1024, cpuS, rssMethod: 'gnu-time', exitCode: code };
}

export async function stopRunning(): Promise<void> {
  await Promise.all([...running].map((c) => stopChild(c, 1000)));
}

/** Busy and total jiffies of the whole machine (first line of /proc/stat), to report CPU load. */
export function cpuTicks(): { busy: number; total: number } {
  try {
    const f = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
    const total = f.reduce((a, b) => a + b, 0);
    const idle = (f[3] ?? 0) + (f[4] ?? 0);
    return { busy: total - idle, total };
  } catch {
    return { busy: 0, total: 0 };
  }
}

const CLK_TCK = 100; // Linux USER_HZ, fixed at 100 on every mainstream architecture

/** The pid of a running process whose command line contains `needle` (e.g. a registry's config path). */
export function findPid(needle: string): number | undefined {
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const cmdline = readFileSync(`/proc/${entry}/cmdline`, 'utf8');
      if (cmdline.includes(needle) && !cmdline.startsWith('/bin/sh')) return Number(entry);
    } catch {
      // gone
    }
  }
  return undefined;
}

/** user + system CPU seconds a live process has used so far (0 when it cannot be read). */
export function processCpuS(pid: number | undefined): number {
  if (pid === undefined) return 0;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // fields[0] is field 3 (state); utime and stime are fields 14 and 15
    return (Number(fields[11]) + Number(fields[12])) / CLK_TCK;
  } catch {
    return 0;
  }
}

/** Cores the whole machine keeps busy over `ms`. */
export async function busyCores(ms = 500): Promise<number> {
  const a = cpuTicks();
  await new Promise((r) => setTimeout(r, ms));
  const b = cpuTicks();
  return b.total > a.total ? ((b.busy - a.busy) / (b.total - a.total)) * cpus().length : 0;
}

/**
 * Waits (up to `maxS`) until the machine is idle, i.e. fewer than `threshold` cores busy, so that
 * other work on the host (a test suite, a build) does not pollute a measurement. Returns the
 * cores busy in the last sample (above the threshold when it gave up waiting).
 */
export async function waitIdle(maxS: number, threshold: number, onWait: (busy: number) => void): Promise<number> {
  const deadline = Date.now() + maxS * 1000;
  let busy = await busyCores();
  let told = false;
  while (busy >= threshold && Date.now() < deadline) {
    if (!told) onWait(busy);
    told = true;
    busy = await busyCores(1000);
  }
  return busy;
}
