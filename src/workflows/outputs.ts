import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ClusterResource } from '../collect/types.js';
import type { TaskOutcome } from '../copy/engine.js';
import type { Logger } from '../log.js';
import { renderMirrorSets } from '../outputs/idms-itms.js';
import { renderErrorsFile, renderResults, type ImageResult, type RunReport } from '../outputs/report.js';
import { VERSION } from '../version.js';
import { OcMirrorError } from '../errors.js';
import type { WorkingDir } from './working-dir.js';

export function toResult(o: TaskOutcome): ImageResult {
  if (!o.ok) return { task: o.task, status: o.skipped ? 'skipped' : 'failed', error: o.error };
  return { task: o.task, status: o.result.alreadyPresent ? 'present' : 'mirrored', bytes: o.result.bytesCopied };
}

export interface FinishOptions {
  /** IDMS/ITMS are written where a cluster will pull from the result (mirror to mirror, disk to mirror) */
  clusterResources: boolean;
  /** the collectors' resources (CatalogSource, UpdateService, …), written with IDMS/ITMS */
  resources?: readonly ClusterResource[];
  maxNestedPaths: number;
  dirs: WorkingDir;
  timestamp: string;
  log: Logger;
}

/** Writes what every run leaves behind: cluster resources, the report JSON, the errors file, the results block. */
export function finishRun(report: RunReport, opts: FinishOptions): void {
  const { dirs, timestamp, log } = opts;
  if (opts.clusterResources) {
    const copied = report.images.filter((i) => i.status === 'mirrored' || i.status === 'present').map((i) => i.task);
    const sets = renderMirrorSets(copied, {
      maxNestedPaths: opts.maxNestedPaths,
      createdAt: new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
      version: VERSION,
    });
    if (sets.idms) writeFileSync(join(dirs.clusterResources, 'idms-oc-mirror.yaml'), sets.idms);
    if (sets.itms) writeFileSync(join(dirs.clusterResources, 'itms-oc-mirror.yaml'), sets.itms);
    for (const r of opts.resources ?? []) {
      // Names derive from catalog and release names: never a path out of cluster-resources.
      if (!/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(r.name)) throw new OcMirrorError(`cluster resource name "${r.name}" is not a plain file name`);
      writeFileSync(join(dirs.clusterResources, r.name), r.content);
    }
    if (sets.idms || sets.itms || opts.resources?.length) log.info(`cluster resources written to ${dirs.clusterResources}`);
  }
  writeFileSync(join(dirs.logs, `report_${timestamp}.json`), JSON.stringify(report, null, 2) + '\n');
  const failed = report.images.filter((i) => i.status === 'failed' || i.status === 'skipped');
  if (failed.length) {
    const errorsFile = join(dirs.logs, `mirroring_errors_${timestamp}.txt`);
    writeFileSync(errorsFile, renderErrorsFile(report));
    log.error(
      `${failed.length} image(s) failed to mirror; details in ${errorsFile}. Re-run to retry them (what was copied is skipped), remove them from the configuration, or mirror them by hand.`,
    );
  }
  for (const line of renderResults(report).split('\n')) if (line) log.info(line);
}
