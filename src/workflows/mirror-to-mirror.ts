import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { collectAdditionalImages } from '../collect/additional.js';
import { compileBlockedPattern } from '../config/blocked.js';
import { loadImageSetConfiguration } from '../config/load.js';
import type { ImageSetConfiguration } from '../config/types.js';
import { CopyEngine, type TaskOutcome } from '../copy/engine.js';
import type { CopyListener } from '../copy/events.js';
import { ConfigError, errorMessage, OcMirrorError } from '../errors.js';
import { parseRegistryLocation } from '../image/reference.js';
import type { Logger } from '../log.js';
import type { MirrorOptions } from '../options.js';
import { renderMirrorSets } from '../outputs/idms-itms.js';
import { renderMapping } from '../outputs/mapping.js';
import { exitCode, renderErrorsFile, renderResults, type ImageResult, type RunReport } from '../outputs/report.js';
import { buildPlan } from '../plan/planner.js';
import type { CollectedImage, Plan } from '../plan/types.js';
import { credentialLookup } from '../registry/credentials.js';
import { RegistryEndpoints } from '../registry/endpoints.js';
import { VERSION } from '../version.js';
import { prepareWorkingDir, runTimestamp, type WorkingDir } from './working-dir.js';

export interface RunHooks {
  /** called once the plan is known, before the first image is copied */
  copyStarting?(total: number): void;
  listener?: CopyListener;
}

export interface RunOutcome {
  exitCode: number;
  report?: RunReport;
  workingDir: WorkingDir;
}

/**
 * Mirror to mirror (ref §1.6): collect → plan → copy source → destination → cluster resources.
 * A dry run stops after writing mapping.txt and contacts no destination.
 */
export async function mirrorToMirror(options: MirrorOptions, log: Logger & { attachFile?(path: string): void }, hooks: RunHooks = {}): Promise<RunOutcome> {
  const timestamp = runTimestamp();
  const config = loadImageSetConfiguration(options.configPath);
  refuseUnbuiltContent(config, basename(options.configPath));
  const dirs = prepareWorkingDir(options.workingDir, timestamp, { wipeClusterResources: !options.dryRun });
  log.attachFile?.(dirs.logFile);
  log.info(`oc-mirror-action ${VERSION}: mirror to mirror, ${options.dryRun ? 'dry run, ' : ''}working-dir ${dirs.root}`);

  const images: CollectedImage[] = collectAdditionalImages(config.mirror?.additionalImages);
  const blocked = (config.mirror?.blockedImages ?? []).map((b) => compileBlockedPattern(b.name));
  const { plan, blocked: removed } = buildPlan(images, options.destination, { maxNestedPaths: options.maxNestedPaths, blocked });
  for (const image of removed) log.info(`${image.source} is blocked by blockedImages: not mirrored`);
  if (plan.tasks.length === 0) throw new OcMirrorError('no images to copy: every image of the configuration is blocked or none is configured');

  if (options.dryRun) return dryRun(plan, dirs, log);

  const endpoints = new RegistryEndpoints(
    registryOptions(options, 'src', log),
    registryOptions(options, 'dest', log),
  );
  try {
    const location = parseRegistryLocation(options.destination);
    try {
      await endpoints.destinationRegistry(location.registry).checkAccess(AbortSignal.timeout(120_000));
    } catch (err) {
      throw new OcMirrorError(`checking registry "${location.registry}" access: ${errorMessage(err)}`);
    }
    const startedAt = new Date().toISOString();
    log.info(`mirroring ${plan.tasks.length} images to ${options.destination}`);
    hooks.copyStarting?.(plan.tasks.length);
    const engine = new CopyEngine(endpoints, { ...options, ...(hooks.listener && { listener: hooks.listener }) });
    const outcomes = await engine.run(plan.tasks);
    const report: RunReport = {
      startedAt,
      finishedAt: new Date().toISOString(),
      workflow: options.workflow,
      destination: options.destination,
      images: outcomes.map(toResult),
    };
    writeOutputs(report, options, dirs, timestamp, log);
    return { exitCode: exitCode(report), report, workingDir: dirs };
  } finally {
    await endpoints.close();
  }
}

/** Content kinds whose collectors are not built yet are refused, never silently skipped. */
function refuseUnbuiltContent(config: ImageSetConfiguration, file: string): void {
  const m = config.mirror;
  if (!m) return;
  const unbuilt: [unknown, string, string][] = [
    [m.platform, 'mirror.platform', 'platform releases'],
    [m.operators?.length ? m.operators : undefined, 'mirror.operators', 'operator catalogs'],
    [m.helm, 'mirror.helm', 'helm charts'],
    [m.samples?.length ? m.samples : undefined, 'mirror.samples', 'samples (oc-mirror does not implement them either)'],
  ];
  for (const [value, path, what] of unbuilt) {
    if (value !== undefined) throw new ConfigError(`${file} ${path}: ${what} are not built yet in this version; remove the section`);
  }
}

function dryRun(plan: Plan, dirs: WorkingDir, log: Logger): RunOutcome {
  rmSync(dirs.dryRun, { recursive: true, force: true });
  mkdirSync(dirs.dryRun, { recursive: true });
  const mapping = join(dirs.dryRun, 'mapping.txt');
  writeFileSync(mapping, renderMapping(plan));
  log.info(`dry run: ${plan.tasks.length} images would be mirrored; see ${mapping}`);
  return { exitCode: 0, workingDir: dirs };
}

function toResult(o: TaskOutcome): ImageResult {
  if (!o.ok) return { task: o.task, status: 'failed', error: o.error };
  return { task: o.task, status: o.result.alreadyPresent ? 'present' : 'mirrored', bytes: o.result.bytesCopied };
}

function writeOutputs(report: RunReport, options: MirrorOptions, dirs: WorkingDir, timestamp: string, log: Logger): void {
  const copied = report.images.filter((i) => i.status === 'mirrored' || i.status === 'present').map((i) => i.task);
  const sets = renderMirrorSets(copied, { maxNestedPaths: options.maxNestedPaths, createdAt: new Date().toISOString().replace(/\.\d+Z$/, 'Z'), version: VERSION });
  if (sets.idms) writeFileSync(join(dirs.clusterResources, 'idms-oc-mirror.yaml'), sets.idms);
  if (sets.itms) writeFileSync(join(dirs.clusterResources, 'itms-oc-mirror.yaml'), sets.itms);
  if (sets.idms || sets.itms) log.info(`cluster resources written to ${dirs.clusterResources}`);
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

function registryOptions(options: MirrorOptions, side: 'src' | 'dest', log: Logger) {
  const certDir = side === 'src' ? options.srcCertDir : options.destCertDir;
  return {
    tlsVerify: side === 'src' ? options.srcTlsVerify : options.destTlsVerify,
    ...(certDir && { certDir }),
    credentials: credentialLookup(options.authfile),
    connections: options.parallelImages * options.parallelLayers + 2,
    uploadChunkSize: options.uploadChunkSize,
    log: (m: string) => log.debug(m),
  };
}
