import { createHash } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename } from 'node:path';
import { ARCHIVE_NAME_PATTERN } from '../archive/reader.js';
import { errorMessage, OcMirrorError } from '../errors.js';
import { imageContent } from '../image/content.js';
import { parseReference, pullReference } from '../image/reference.js';
import type { Logger } from '../log.js';
import type { RunReport } from '../outputs/report.js';
import { LocalStore } from '../store/store.js';
import { mirrorToDisk } from '../workflows/mirror-to-disk.js';
import { storeRoot } from '../workflows/store-location.js';
import { artifactsAvailable, uploadRawFiles } from './artifacts.js';
import type { PackInputs } from './inputs.js';
import { failOnImages, filesIn, uploadReportIfLong, withAuthfile } from './run-common.js';
import type { StepReport } from './step.js';
import { restoreStore, saveStore, storeCacheAvailable, type RestoreResult, type StoreCacheOptions } from './store-cache.js';
import { renderRunSummary } from './summary.js';

type ActionLogger = Logger & { attachFile?(path: string): void };

/**
 * The pack action: mirror to disk with the store kept in the Actions cache, then each archive
 * uploaded as an artifact `<artifact-name>-mirror_NNNNNN.tar`.
 */
export async function runPack(inputs: PackInputs, step: StepReport, log: ActionLogger, authfile?: string): Promise<void> {
  const options = withAuthfile(inputs.options, authfile);
  const cacheOptions: StoreCacheOptions | undefined = storeCacheAvailable()
    ? {
        prefix: inputs.cacheKeyPrefix,
        configHash: createHash('sha256').update(readFileSync(options.configPath)).digest('hex').slice(0, 16),
        storeRoot: storeRoot(options),
        tempDir: process.env.RUNNER_TEMP || tmpdir(),
        env: process.env,
        log,
      }
    : undefined;
  if (!cacheOptions) log.info('store cache: the Actions cache is not available here; the store is not restored or saved');
  const restored: RestoreResult = cacheOptions ? await restoreStore(cacheOptions) : { packsRestored: 0, blobsRestored: 0 };

  const outcome = await mirrorToDisk(options, log);
  const report = outcome.report;
  if (!report) throw new OcMirrorError('the pack run ended without a report');

  if (cacheOptions) {
    try {
      await saveStore(cacheOptions, restored, await usedBlobs(storeRoot(options), options.storeHost, report, log));
    } catch (err) {
      log.warn(`store cache: not saved: ${errorMessage(err)}`);
    }
  }

  const archives = filesIn(options.archiveDir!).filter((f) => ARCHIVE_NAME_PATTERN.test(basename(f)));
  if (archives.length > 0 && artifactsAvailable()) {
    const names = await uploadRawFiles(inputs.artifactName, archives);
    log.info(`uploaded ${names.length} artifact(s): ${names.join(', ')}`);
  } else if (archives.length > 0) {
    log.warn('no artifact service here: the archives stay in the path directory');
  }
  const reportArtifact = await uploadReportIfLong(report, `${inputs.artifactName}-report`, log);
  const sized = archives.map((path) => ({ path, bytes: statSync(path).size }));
  step.outputs({
    archives,
    'artifact-name': inputs.artifactName,
    bytes: sized.reduce((n, a) => n + a.bytes, 0),
  });
  await step.summary(
    renderRunSummary(report, { archives: sized, durationMs: step.elapsedMs, ...(reportArtifact && { artifactName: reportArtifact }) }),
  );
  const failed = report.images.filter((i) => i.status === 'failed' || i.status === 'skipped').length;
  failOnImages(failed, report.images.length);
}

/** digest → size of every manifest and blob of the images this run put in the store. */
async function usedBlobs(root: string, host: string, report: RunReport, log: Logger): Promise<Map<string, number>> {
  const store = await LocalStore.open(root, host);
  const used = new Map<string, number>();
  for (const image of report.images) {
    if (image.status !== 'mirrored' && image.status !== 'present') continue;
    try {
      const ref = parseReference(image.task.destination);
      const content = await imageContent(store.repository(ref.repository), pullReference(ref));
      for (const m of content.manifests) used.set(m.digest, m.bytes.length);
      for (const b of content.blobs) used.set(b.digest, b.size);
    } catch (err) {
      log.debug(`store cache: ${image.task.destination}: ${errorMessage(err)}`);
    }
  }
  return used;
}
