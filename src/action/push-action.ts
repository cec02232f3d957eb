import { mkdirSync, rmSync } from 'node:fs';
import { OcMirrorError } from '../errors.js';
import type { Logger } from '../log.js';
import { diskToMirror } from '../workflows/disk-to-mirror.js';
import { artifactsAvailable, downloadArtifact, findArtifacts, stripPrefix, type OtherRun } from './artifacts.js';
import type { ArchiveSource, PushInputs } from './inputs.js';
import { finishCopyRun, jobSuffix, uploadReportIfLong, withAuthfile } from './run-common.js';
import type { StepReport } from './step.js';

type ActionLogger = Logger & { attachFile?(path: string): void };

/** The push action: disk to mirror from a directory, or from the archives pack uploaded (this run's or another's). */
export async function runPush(inputs: PushInputs, step: StepReport, log: ActionLogger, authfile?: string): Promise<void> {
  if (inputs.archives.kind === 'artifact') await fetchArchives(inputs.archives, log);
  const outcome = await diskToMirror(withAuthfile(inputs.options, authfile), log);
  const report = outcome.report;
  if (!report) throw new OcMirrorError('the push run ended without a report');
  const reportArtifact = await uploadReportIfLong(report, `oc-mirror-report-${jobSuffix()}-push`, log);
  await finishCopyRun(step, report, outcome.workingDir.clusterResources, reportArtifact);
}

/** Downloads `<name>-mirror_NNNNNN.tar` artifacts into the directory push reads, under their archive names. */
async function fetchArchives(source: Extract<ArchiveSource, { kind: 'artifact' }>, log: Logger): Promise<void> {
  if (!artifactsAvailable()) {
    throw new OcMirrorError('input "artifact-name": there is no artifact service here (not a workflow run); give the archive directory as "from"');
  }
  const run: OtherRun | undefined =
    source.runId === undefined
      ? undefined
      : { runId: source.runId, ...(source.repository && { repository: source.repository }), ...(source.githubToken && { githubToken: source.githubToken }) };
  const prefix = `${source.name}-`;
  const pattern = /^mirror_[0-9]{6}\.tar$/;
  const artifacts = await findArtifacts((n) => n.startsWith(prefix) && pattern.test(n.slice(prefix.length)), run);
  const where = run ? `run ${run.runId}${run.repository ? ` of ${run.repository}` : ''}` : 'this workflow run';
  if (artifacts.length === 0) throw new OcMirrorError(`input "artifact-name": no artifacts "${source.name}-mirror_NNNNNN.tar" in ${where}`);
  rmSync(source.path, { recursive: true, force: true });
  mkdirSync(source.path, { recursive: true });
  for (const artifact of artifacts) {
    await downloadArtifact(artifact, source.path, run);
    stripPrefix(source.path, source.name, artifact.name);
  }
  log.info(`downloaded ${artifacts.length} archive(s) from ${where} into ${source.path}`);
}
