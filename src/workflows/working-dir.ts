import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';

/** The parts of working-dir a run writes (ref §3.1). */
export interface WorkingDir {
  root: string;
  logs: string;
  logFile: string;
  clusterResources: string;
  dryRun: string;
}

/** `YYYYMMDD_HHMMSS`, the timestamp that names a run's log files. */
export function runTimestamp(now = new Date()): string {
  const p = (n: number) => String(n).padStart(2, '0');
  return `${now.getFullYear()}${p(now.getMonth() + 1)}${p(now.getDate())}_${p(now.getHours())}${p(now.getMinutes())}${p(now.getSeconds())}`;
}

/** Creates working-dir; cluster-resources is emptied at the start of every run but dry runs, as in oc-mirror. */
export function prepareWorkingDir(root: string, timestamp: string, opts: { wipeClusterResources: boolean }): WorkingDir {
  const dirs: WorkingDir = {
    root,
    logs: join(root, 'logs'),
    logFile: join(root, 'logs', `oc-mirror-${timestamp}.log`),
    clusterResources: join(root, 'cluster-resources'),
    dryRun: join(root, 'dry-run'),
  };
  if (opts.wipeClusterResources) rmSync(dirs.clusterResources, { recursive: true, force: true });
  mkdirSync(dirs.logs, { recursive: true });
  mkdirSync(dirs.clusterResources, { recursive: true });
  return dirs;
}
