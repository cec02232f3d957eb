import { copyFileSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { OcMirrorError } from '../errors.js';
import type { Logger } from '../log.js';
import { renderMirrorSets } from '../outputs/idms-itms.js';
import type { RunReport } from '../outputs/report.js';
import { VERSION } from '../version.js';
import { mirrorToMirror } from '../workflows/mirror-to-mirror.js';
import { artifactsAvailable, downloadArtifact, findArtifacts, uploadZipped } from './artifacts.js';
import type { MirrorInputs } from './inputs.js';
import { parseRecord, shardOf, type PlanRecord } from './plan-record.js';
import { filesIn, finishCopyRun, jobSuffix, stepTempDir, uploadReportIfLong, withAuthfile } from './run-common.js';
import { formatShard, type Shard } from './shards.js';
import type { StepReport } from './step.js';

type ActionLogger = Logger & { attachFile?(path: string): void };

const IDMS_ITMS = new Set(['idms-oc-mirror.yaml', 'itms-oc-mirror.yaml']);

/** `<plan-artifact>-shard-<i>-of-<N>`: what one shard job leaves for the merge step. */
export function shardArtifactName(planArtifact: string, shard: Shard): string {
  return `${planArtifact}-shard-${shard.index}-of-${shard.count}`;
}

/** The mirror action: mirror to mirror, of the whole plan or one shard of it; or the merge of the shards' results. */
export async function runMirrorAction(inputs: MirrorInputs, step: StepReport, log: ActionLogger, authfile?: string): Promise<void> {
  if (inputs.mergeShards) return mergeShards(inputs, step, log);
  const options = withAuthfile(inputs.options, authfile);
  const shard = inputs.shard && inputs.shard.count > 1 ? inputs.shard : undefined;
  const record = shard ? await planOfRun(inputs.planArtifact, log) : undefined;
  const outcome = await mirrorToMirror(options, log, {
    ...(shard && {
      plan: (plan) => {
        const part = shardOf(plan, shard, record);
        log.info(`shard ${formatShard(shard)}: ${part.tasks.length} of ${plan.tasks.length} images`);
        return part;
      },
    }),
  });
  const report = outcome.report;
  if (!report) throw new OcMirrorError('the mirror run ended without a report');
  const clusterResources = outcome.workingDir.clusterResources;
  if (shard) await uploadShardResult(shardArtifactName(inputs.planArtifact, shard), report, clusterResources, log);
  const reportArtifact = await uploadReportIfLong(report, `oc-mirror-report-${jobSuffix()}${shard ? `-${shard.index}-of-${shard.count}` : ''}`, log);
  await finishCopyRun(step, report, clusterResources, reportArtifact);
}

/** The plan job's record from this run's artifacts; undefined (with a warning) when there is none. */
async function planOfRun(name: string, log: Logger): Promise<PlanRecord | undefined> {
  if (!artifactsAvailable()) {
    log.warn('no artifact service here: the plan is cut by image count');
    return undefined;
  }
  const [artifact] = await findArtifacts((n) => n === name);
  if (!artifact) {
    log.warn(`no artifact "${name}" in this run (run the plan action with shards first): the plan is cut by image count`);
    return undefined;
  }
  const dir = stepTempDir('plan');
  try {
    await downloadArtifact(artifact, dir);
    return parseRecord(readFileSync(join(dir, 'plan.json'), 'utf8'), `the artifact "${name}"`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function uploadShardResult(name: string, report: RunReport, clusterResources: string, log: Logger): Promise<void> {
  if (!artifactsAvailable()) {
    log.warn('no artifact service here: this shard\'s cluster resources stay in its workspace');
    return;
  }
  const dir = stepTempDir('shard');
  try {
    writeFileSync(join(dir, 'report.json'), JSON.stringify(report));
    mkdirSync(join(dir, 'cluster-resources'));
    for (const file of filesIn(clusterResources)) copyFileSync(file, join(dir, 'cluster-resources', basename(file)));
    await uploadZipped(name, [join(dir, 'report.json'), ...filesIn(join(dir, 'cluster-resources'))], dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * Downloads every shard's report and cluster resources and writes one set: IDMS/ITMS rendered
 * again from all the images the shards mirrored, the other resources (CatalogSource, UpdateService…)
 * taken from the shard that wrote them.
 */
async function mergeShards(inputs: MirrorInputs, step: StepReport, log: Logger): Promise<void> {
  if (!artifactsAvailable()) throw new OcMirrorError('input "merge-shards": needs the artifact service of a workflow run');
  const pattern = new RegExp(`^${escapeRegExp(inputs.planArtifact)}-shard-(\\d+)-of-(\\d+)$`);
  const artifacts = await findArtifacts((n) => pattern.test(n));
  if (artifacts.length === 0) throw new OcMirrorError(`no artifacts "${inputs.planArtifact}-shard-i-of-N" in this run: run the shard jobs first`);
  const counts = new Set(artifacts.map((a) => pattern.exec(a.name)![2]));
  if (counts.size > 1) throw new OcMirrorError(`the shard artifacts of this run come from cuts into different numbers of shards (${[...counts].join(', ')})`);
  const count = Number([...counts][0]);
  const present = new Set(artifacts.map((a) => Number(pattern.exec(a.name)![1])));
  const missing = Array.from({ length: count }, (_, i) => i + 1).filter((i) => !present.has(i));
  if (missing.length) throw new OcMirrorError(`shard(s) ${missing.map((i) => `${i}/${count}`).join(', ')} uploaded no result: did their jobs fail before the end?`);

  const dir = stepTempDir('merge');
  const target = join(inputs.options.workingDir, 'cluster-resources');
  try {
    const merged: RunReport = { startedAt: '', finishedAt: '', workflow: 'mirrorToMirror', destination: inputs.options.destination, images: [] };
    const others = new Map<string, { content: Buffer; from: string }>();
    for (const artifact of artifacts) {
      const into = join(dir, artifact.name);
      await downloadArtifact(artifact, into);
      const report = JSON.parse(readFileSync(join(into, 'report.json'), 'utf8')) as RunReport;
      merged.images.push(...report.images);
      if (!merged.startedAt || report.startedAt < merged.startedAt) merged.startedAt = report.startedAt;
      if (report.finishedAt > merged.finishedAt) merged.finishedAt = report.finishedAt;
      for (const file of filesIn(join(into, 'cluster-resources'))) {
        const name = basename(file);
        if (IDMS_ITMS.has(name)) continue;
        const content = readFileSync(file);
        const seen = others.get(name);
        if (seen && !seen.content.equals(content)) log.warn(`${name}: the shards ${seen.from} and ${artifact.name} wrote different content; keeping ${seen.from}'s`);
        if (!seen) others.set(name, { content, from: artifact.name });
      }
    }
    rmSync(target, { recursive: true, force: true });
    mkdirSync(target, { recursive: true });
    const copied = merged.images.filter((i) => i.status === 'mirrored' || i.status === 'present').map((i) => i.task);
    const sets = renderMirrorSets(copied, {
      maxNestedPaths: inputs.options.maxNestedPaths,
      createdAt: new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
      version: VERSION,
    });
    if (sets.idms) writeFileSync(join(target, 'idms-oc-mirror.yaml'), sets.idms);
    if (sets.itms) writeFileSync(join(target, 'itms-oc-mirror.yaml'), sets.itms);
    for (const [name, { content }] of others) writeFileSync(join(target, name), content);
    log.info(`merged ${count} shards: ${merged.images.length} images, cluster resources in ${target}`);
    const reportArtifact = await uploadReportIfLong(merged, `oc-mirror-report-${jobSuffix()}-merged`, log);
    await finishCopyRun(step, merged, target, reportArtifact);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
