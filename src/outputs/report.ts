import type { CopyTask, Origin } from '../plan/types.js';

/**
 * - `mirrored`: copied in this run;
 * - `present`: the destination already had it, nothing transferred (a success);
 * - `failed`: the copy failed, `error` says why;
 * - `skipped`: not attempted because of another failure (a bundle whose related image failed, the
 *   rest of the queue after a release image failed); counts as not mirrored.
 */
export type ImageStatus = 'mirrored' | 'present' | 'failed' | 'skipped';

export interface ImageResult {
  task: CopyTask;
  status: ImageStatus;
  error?: string;
  /** bytes transferred for this image */
  bytes?: number;
}

/** The run as plain data (serialisable to JSON): the results block, the errors file and the exit code are renderings of it. */
export interface RunReport {
  /** RFC 3339 */
  startedAt: string;
  finishedAt: string;
  /** e.g. mirrorToMirror, mirrorToDisk, diskToMirror */
  workflow: string;
  /** the destination as given */
  destination: string;
  images: ImageResult[];
}

export interface OriginCounts {
  total: number;
  mirrored: number;
  present: number;
  failed: number;
  skipped: number;
  bytes: number;
}

/** In the order oc-mirror prints them and sets their exit-code bits. */
export const ORIGINS: readonly Origin[] = ['release', 'operator', 'additional', 'helm'];

export function summarize(report: RunReport): Record<Origin, OriginCounts> {
  const counts = Object.fromEntries(ORIGINS.map((o) => [o, emptyCounts()])) as Record<Origin, OriginCounts>;
  for (const image of report.images) {
    const c = counts[image.task.origin];
    c.total++;
    c[image.status]++;
    c.bytes += image.bytes ?? 0;
  }
  return counts;
}

function emptyCounts(): OriginCounts {
  return { total: 0, mirrored: 0, present: 0, failed: 0, skipped: 0, bytes: 0 };
}

function succeeded(c: OriginCounts): number {
  return c.mirrored + c.present;
}

/**
 * The `=== Results ===` block (ref §3.3), one line per category with images, without a trailing
 * newline (each line is one log message). oc-mirror pads and colours the mark; colours belong to
 * the front end, so the mark is plain here.
 */
export function renderResults(report: RunReport): string {
  const counts = summarize(report);
  const lines = ['=== Results ==='];
  for (const origin of ORIGINS) {
    const c = counts[origin];
    if (c.total === 0) continue;
    const ok = succeeded(c);
    lines.push(
      ok === c.total
        ? `✓ ${ok} / ${c.total} ${origin} images mirrored successfully`
        : `✗ ${ok} / ${c.total} ${origin} images mirrored: Some ${origin} images failed to be mirrored - please check the logs`,
    );
  }
  return lines.join('\n');
}

const SKIPPED_BUNDLE = (origin: string): string => `skipping operator bundle ${origin} because one of its related images failed to mirror`;

/**
 * mirroring_errors_<ts>.txt (ref §3.2): one line per failed image, plus one per skipped image that
 * carries a reason or is a bundle. Operator failures name the bundles and packages that need the
 * image, written like Go's `%v` of a string slice (`[a b]`); a skipped bundle's line has the plain
 * form, as in oc-mirror. Images are named with their `docker://` transport, as oc-mirror does.
 */
export function renderErrorsFile(report: RunReport): string {
  const lines: string[] = [];
  for (const image of report.images) {
    const origin = `docker://${image.task.source}`;
    if (image.status === 'failed') {
      const operators = image.task.belongsTo?.operators;
      const error = image.error ?? 'unknown error';
      if (operators && (operators.bundles.length > 0 || operators.packages.length > 0)) {
        lines.push(
          `error mirroring image ${origin} (Operator bundles: ${goSlice(operators.bundles)} - Operators: ${goSlice(operators.packages)}) error: ${error}`,
        );
      } else {
        lines.push(`error mirroring image ${origin} error: ${error}`);
      }
    } else if (image.status === 'skipped' && (image.error !== undefined || image.task.kind === 'operatorBundle')) {
      lines.push(`error mirroring image ${origin} error: ${image.error ?? SKIPPED_BUNDLE(origin)}`);
    }
  }
  return lines.map((line) => `${line}\n`).join('');
}

function goSlice(items: readonly string[]): string {
  return `[${items.join(' ')}]`;
}

/** Exit-code bits (ref §12.4). */
export const EXIT_BITS: Readonly<Record<Origin | 'generic', number>> = {
  generic: 1,
  release: 2,
  operator: 4,
  additional: 8,
  helm: 16,
};

/**
 * The exit status (ref §12.4): a bit per category whose collection failed, and per category where
 * fewer images were mirrored (or found present) than planned. 0 when everything went through.
 * Failures outside the categories (bad flags, archive I/O…) are the caller's: they exit with 1.
 */
export function exitCode(report: RunReport, collectionFailures: readonly Origin[] = []): number {
  let code = 0;
  for (const origin of collectionFailures) code |= EXIT_BITS[origin];
  const counts = summarize(report);
  for (const origin of ORIGINS) {
    if (succeeded(counts[origin]) !== counts[origin].total) code |= EXIT_BITS[origin];
  }
  return code;
}
