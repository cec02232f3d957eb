import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as core from '@actions/core';
import type { Logger } from '../log.js';
import type { MirrorOptions } from '../options.js';
import type { RunReport } from '../outputs/report.js';
import { errorMessage } from '../errors.js';
import { artifactsAvailable, uploadZipped } from './artifacts.js';
import { copyCounts } from './outputs.js';
import type { StepReport } from './step.js';
import { DEFAULT_SUMMARY_LIMITS, renderRunSummary } from './summary.js';

/** The options the engine runs with: the inputs' options, with the step's private authfile when there is one. */
export function withAuthfile(options: MirrorOptions, authfile: string | undefined): MirrorOptions {
  return authfile ? { ...options, authfile } : options;
}

/** Absolute paths of the files in a directory, sorted; [] when it does not exist. */
export function filesIn(dir: string): string[] {
  try {
    return readdirSync(dir, { withFileTypes: true })
      .filter((e) => e.isFile())
      .map((e) => join(dir, e.name))
      .sort();
  } catch {
    return [];
  }
}

/** A directory under RUNNER_TEMP for one use; the caller removes it. */
export function stepTempDir(kind: string, env: NodeJS.ProcessEnv = process.env): string {
  return mkdtempSync(join(env.RUNNER_TEMP || tmpdir(), `oc-mirror-${kind}-`));
}

/**
 * When the summary cannot list every image, the full report goes up as a zipped artifact and the
 * summary names it. A refused upload costs the list, not the step.
 */
export async function uploadReportIfLong(report: RunReport, name: string, log: Logger): Promise<string | undefined> {
  if (report.images.length <= DEFAULT_SUMMARY_LIMITS.imageRows || !artifactsAvailable()) return undefined;
  const dir = stepTempDir('report');
  try {
    const file = join(dir, 'report.json');
    writeFileSync(file, JSON.stringify(report, null, 2) + '\n');
    await uploadZipped(name, [file], dir);
    return name;
  } catch (err) {
    log.warn(`the full report was not uploaded: ${errorMessage(err)}`);
    return undefined;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Outputs, summary and step result of a run that copied into a registry (mirror, push). */
export async function finishCopyRun(
  step: StepReport,
  report: RunReport,
  clusterResourcesDir: string,
  reportArtifact: string | undefined,
): Promise<void> {
  const counts = copyCounts(report);
  step.outputs({ ...counts, 'cluster-resources': clusterResourcesDir });
  await step.summary(
    renderRunSummary(report, {
      clusterResources: filesIn(clusterResourcesDir),
      durationMs: step.elapsedMs,
      ...(reportArtifact && { artifactName: reportArtifact }),
    }),
  );
  failOnImages(counts.failed, report.images.length);
}

export function failOnImages(failed: number, total: number): void {
  if (failed > 0) core.setFailed(`${failed} of ${total} images could not be mirrored; the job summary lists them with the reason`);
}

/** A name part from the job, so that several jobs of one run upload distinct artifacts. */
export function jobSuffix(env: NodeJS.ProcessEnv = process.env): string {
  return (env.GITHUB_JOB || 'job').replace(/[^A-Za-z0-9_.-]/g, '_');
}
